"""One participant's connection in the packet strategy: the MediaConnection.

It owns the wire (SRTP in from the socket callback, out to the nominated
pair: aiortc_adapter.wire) and splits the traffic between the connection's
two roles: RTP and sender reports go to the uplink (what this participant
publishes), the rest of its RTCP to the downlink (what it receives). A timer
every TICK seconds drives what is periodic: NACK retries and transport-wide
feedback (uplink), layer bitrates and allocation, and every REPORT_INTERVAL
one compound RTCP packet with a sender report per sending line and a
receiver report for every received stream.

Negotiation: aiortc's SDP is completed for simulcast (and transport-wide
CC) before it is sent (simulcast.py), and each finished offer/answer tells
both roles the numbers agreed on (sdpmedia.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCDtlsTransport, RTCPeerConnection

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu import simulcast
from roomtone.sfu.downlink import Downlink
from roomtone.sfu.layers import Layers
from roomtone.sfu.outbound import OutboundLine
from roomtone.sfu.publishing import Publication
from roomtone.sfu.rtp import rtcp
from roomtone.sfu.rtp.extensions import REPAIRED_RID, RID, TRANSPORT_CC
from roomtone.sfu.sdpmedia import agreed_extensions, rtp_sections
from roomtone.sfu.uplink import Uplink

log = logging.getLogger(__name__)

TICK = 0.05  # seconds
MEASURE_INTERVAL = 0.5
REPORT_INTERVAL = 1.0
RTCP_DATAGRAM = 1200  # bytes: a longer compound is split
CNAME = "roomtone-sfu"

# Transport-wide congestion control is asked for both ways; peers without it (aiortc) get
# REMB from the uplink and send REMB to the downlink's estimate.
TRANSPORT_CC_UPLINK = True
TRANSPORT_CC_DOWNLINK = True


class Endpoint:
    """MediaConnection: see the module docstring."""

    def __init__(self, pc: RTCPeerConnection, notify: Callable[[dict[str, Any]], None]) -> None:
        self.pc = pc
        self._notify = notify
        self.rtcp_ssrc = random.getrandbits(32) or 1
        self.wire: adapter.Wire | None = None
        self.uplink = Uplink(self)
        self.downlink = Downlink(self, pc)
        self._client_ids: dict[str, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._measured = self._reported = time.monotonic()
        self.closed = False

    # --- MediaConnection -------------------------------------------------------------------

    def receive(self, publication: Publication) -> Layers:
        adapter.idle_transceiver(publication.transceiver, self._start)
        feed = Layers(publication, self.uplink)
        self.uplink.add(feed)
        return feed

    def add_line(self, kind: str) -> OutboundLine:
        return self.downlink.add_line(kind)

    def describe(self, sdp: str, offer: str | None) -> str:
        """The server's description as sent: aiortc's, completed (see simulcast.py)."""
        if offer is not None:
            return simulcast.complete_answer(offer, sdp, transport_cc=TRANSPORT_CC_UPLINK)
        receive = {
            mid: feed.offered_rids
            for feed in self.uplink.feeds
            if feed.offered_rids and (mid := feed.publication.transceiver.mid) is not None
        }
        tcc = self._transport_cc_id(sdp) if TRANSPORT_CC_DOWNLINK else 0
        return simulcast.complete_offer(sdp, receive, self._client_ids, tcc)

    def _transport_cc_id(self, sdp: str) -> int:
        if TRANSPORT_CC in self._client_ids:
            return self._client_ids[TRANSPORT_CC]
        used = {ident for s in rtp_sections(sdp).values() for ident in s.extensions.values()}
        used.update(self._client_ids.values())
        return next((i for i in range(1, 15) if i not in used), 0)

    def negotiated(self, local: str, remote: str) -> None:
        """An offer/answer exchange completed: `local` as sent, `remote` as received."""
        mine, theirs = rtp_sections(local), rtp_sections(remote)
        agreed = agreed_extensions(local, remote)
        for section in theirs.values():
            for uri in (RID, REPAIRED_RID, TRANSPORT_CC):
                if uri in section.extensions:
                    self._client_ids.setdefault(uri, section.extensions[uri])
        self.uplink.negotiated(theirs, agreed)
        self.downlink.negotiated(mine, theirs, agreed)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.downlink.close()
        if self.wire is not None:
            self.wire.close()

    # --- hosts of the uplink, the downlink and their lines ---------------------------------

    def start_line(self, line: OutboundLine) -> None:
        adapter.idle_transceiver(line.transceiver, self._start)

    def send_rtp(self, packet: bytes) -> int:
        wire = self.wire
        return wire.send_rtp(packet) if wire is not None else 0

    def send_rtcp(self, packet: bytes) -> None:
        if self.wire is not None:
            self.wire.send_rtcp(packet)

    def notify(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self._notify(message)

    # --- the wire --------------------------------------------------------------------------

    def _start(self, dtls: RTCDtlsTransport) -> None:
        """aiortc connected the transport (it would start its receivers and senders now)."""
        if self.wire is not None or self.closed:
            return
        self.wire = adapter.Wire(dtls, self.uplink.on_rtp, self._on_rtcp)
        self.downlink.started()
        self._timer = asyncio.get_running_loop().call_later(TICK, self._tick)

    def _on_rtcp(self, data: bytes, now: float) -> None:
        for item in rtcp.parse(data):
            if isinstance(item, rtcp.SenderReport):
                self.uplink.on_sender_report(item, now)
            if not isinstance(item, rtcp.Bye):
                self.downlink.on_rtcp(item, now)

    def _tick(self) -> None:
        if self.closed:
            return
        self._timer = asyncio.get_running_loop().call_later(TICK, self._tick)
        now = time.monotonic()
        try:
            self.uplink.tick(now)
            if now - self._measured >= MEASURE_INTERVAL:
                self.uplink.measure(now - self._measured)
                self._measured = now
                self.uplink.announce_layers(now)
            self.downlink.tick(now)
            if now - self._reported >= REPORT_INTERVAL * (0.5 + random.random()):
                self._reported = now
                self._report(now)
        except Exception:
            log.exception("SFU connection timer failed")

    def _report(self, now: float) -> None:
        """Sender reports for the lines, receiver reports for the received streams, one CNAME."""
        packets = self.downlink.sender_reports(now, time.time())
        blocks = self.uplink.report_blocks(now)
        if blocks or not packets:
            packets.append(rtcp.receiver_report(self.rtcp_ssrc, blocks))
        if not blocks and not self.downlink.lines:
            return
        packets.append(rtcp.sdes_cname(self.rtcp_ssrc, CNAME))
        chunk: list[bytes] = []
        size = 0
        for packet in packets:
            if chunk and size + len(packet) > RTCP_DATAGRAM:
                self.send_rtcp(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(packet)
            size += len(packet)
        if chunk:
            self.send_rtcp(b"".join(chunk))
