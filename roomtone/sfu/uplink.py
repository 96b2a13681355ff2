"""The publisher side of one connection: which stream each packet belongs to, and the RTCP
the server owes the publisher.

Demux: an RTP packet's SSRC selects its InboundStream (or the RTX stream
that repairs one: unwrapped, then handled as the original). A new SSRC is
bound by its `mid` and `rtp-stream-id` / `repaired-rtp-stream-id` header
extensions (ids from the negotiated SDP), else by the SSRCs the client's SDP
announces, else by a payload type only one m-line uses.

RTCP to the publisher: NACKs for gaps (inbound.py decides when), PLIs per
layer, receiver reports, and uplink congestion feedback: transport-wide CC
feedback when the client negotiated it (its own congestion control adapts
its encodings), REMB otherwise. `layers` messages tell a simulcast
publisher which rids anyone receives: a rid someone starts to want is
announced at once, one nobody wants any more only after LAYER_OFF_AFTER
seconds, and nothing is announced while nobody subscribes. A browser whose
encoding was switched off stops probing its uplink for it: Chromium,
asked for its top layer again, kept its uplink estimate (and so the layer)
where the two lower ones had left it, so a layer goes off only when it has
clearly been given up, not at a subscriber's first cautious allocation.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from roomtone import protocol
from roomtone.sfu.bandwidth.twcc import FeedbackBuilder
from roomtone.sfu.inbound import InboundStream
from roomtone.sfu.layers import Layers
from roomtone.sfu.remb import BurstEstimator
from roomtone.sfu.rtp import header, rtcp
from roomtone.sfu.rtp.extensions import ExtensionIds
from roomtone.sfu.sdpmedia import RtpSection

log = logging.getLogger(__name__)

FIXED = header.FIXED
EXTENSION_HEADER = header.EXTENSION_HEADER
UNBOUND_MAX = 64  # SSRCs remembered as unbindable until the next negotiation
LAYER_OFF_AFTER = 10.0  # seconds a rid goes unwanted before the publisher may stop it


class UplinkHost(Protocol):
    """What the uplink needs of its connection (endpoint.Endpoint)."""

    rtcp_ssrc: int

    def send_rtcp(self, packet: bytes) -> None: ...

    def notify(self, message: dict[str, Any]) -> None: ...


class Uplink:
    """See the module docstring."""

    def __init__(self, host: UplinkHost) -> None:
        self.host = host
        self.feeds: list[Layers] = []
        self.ids = ExtensionIds()
        self._by_mid: dict[str, Layers] = {}
        self._media: dict[int, InboundStream] = {}
        self._rtx: dict[int, InboundStream] = {}
        self._apt: dict[int, int] = {}  # RTX PT → media PT
        self._announced: dict[str, tuple[int, int, bool]] = {}  # SDP SSRC → (feed, layer, rtx)
        self._unbound: set[int] = set()
        self.feedback: FeedbackBuilder | None = None
        self._remb: BurstEstimator | None = None
        self._layers_sent: dict[Layers, list[str]] = {}
        self._wanted_at: dict[Layers, dict[str, float]] = {}  # rid → when last wanted

    # --- negotiation -----------------------------------------------------------------------

    def add(self, feed: Layers) -> None:
        self.feeds.append(feed)

    def negotiated(self, sections: dict[str, RtpSection], agreed: dict[str, int]) -> None:
        """The client's m-lines (as it offered them) and the extension ids both sides agreed."""
        self.ids = ExtensionIds.from_map(agreed)
        self._unbound.clear()
        for feed in self.feeds:
            mid = feed.publication.transceiver.mid
            section = sections.get(mid) if mid is not None else None
            if section is None or section.direction not in ("sendonly", "sendrecv"):
                continue
            feed.configure(section)
            self._by_mid[mid] = feed
            for rtx in feed.rtx_pts:
                self._apt[rtx] = section.apt[rtx]
            index = self.feeds.index(feed)
            for ssrc in section.media_ssrcs:
                self._announced.setdefault(ssrc, (index, 0, False))
                rtx_ssrc = section.fid.get(ssrc)
                if rtx_ssrc is not None:
                    self._announced.setdefault(rtx_ssrc, (index, 0, True))
        if self.ids.transport_cc and self.feedback is None:
            self.feedback = FeedbackBuilder()
        if self.feedback is None and self.ids.abs_send_time and self._remb is None:
            self._remb = BurstEstimator()

    # --- per packet ------------------------------------------------------------------------

    def on_rtp(self, data: bytes, now: float) -> None:
        """One unprotected RTP packet from the publisher."""
        size = len(data)
        if size < 12:
            return
        first, second, seq, timestamp, ssrc = FIXED.unpack_from(data)
        offset = 12 + (first & 0x0F) * 4
        profile = ext_start = ext_end = 0
        if first & 0x10:
            if offset + 4 > size:
                return
            profile, words = EXTENSION_HEADER.unpack_from(data, offset)
            ext_start = offset + 4
            ext_end = offset = ext_start + words * 4
        end = size - data[-1] if first & 0x20 else size
        if offset > end:
            return
        feedback = self.feedback
        if feedback is not None and profile:
            pos = header.find_extension(data, profile, ext_start, ext_end, self.ids.transport_cc)
            if pos >= 0 and pos + 2 <= ext_end:
                feedback.record((data[pos] << 8) | data[pos + 1], now)
        stream = self._media.get(ssrc)
        if stream is None:
            stream = self._rtx.get(ssrc)
            if stream is not None:
                self._unwrap(stream, data, offset, end, second, timestamp, now)
                return
            stream = self._bind(data, ssrc, second & 0x7F, profile, ext_start, ext_end)
            if stream is None:
                return
            if stream.ssrc != ssrc:
                self._unwrap(stream, data, offset, end, second, timestamp, now)
                return
        if self._remb is not None and stream.video and profile:
            self._estimate(data, profile, ext_start, ext_end, size, ssrc, now)
        stream.receive(data, offset, end, seq, timestamp, now)

    def _unwrap(
        self,
        stream: InboundStream,
        data: bytes,
        offset: int,
        end: int,
        second: int,
        timestamp: int,
        now: float,
    ) -> None:
        """An RTX packet (RFC 4588): the original inside goes through its stream."""
        media_pt = self._apt.get(second & 0x7F)
        if end - offset < 2 or media_pt is None or stream.ssrc is None:
            return  # padding (bandwidth probes), or nothing to unwrap it for
        original = header.unwrap_rtx(data, offset, end, media_pt, stream.ssrc)
        seq = (data[offset] << 8) | data[offset + 1]
        stream.receive(original, offset, end - 2, seq, timestamp, now)

    def _bind(
        self, data: bytes, ssrc: int, pt: int, profile: int, ext_start: int, ext_end: int
    ) -> InboundStream | None:
        """The stream of a new SSRC (see the module docstring), or None."""
        if ssrc in self._unbound:
            return None
        ids = self.ids
        values = header.extension_values(data, profile, ext_start, ext_end) if profile else {}
        feed = None
        if ids.mid and ids.mid in values:
            feed = self._by_mid.get(values[ids.mid].decode("ascii", "replace"))
        announced = self._announced.get(ssrc)
        if feed is None and announced is not None:
            feed = self.feeds[announced[0]]
        if feed is None:
            owners = [f for f in self._by_mid.values() if pt in f.media_pts or pt in f.rtx_pts]
            feed = owners[0] if len(owners) == 1 else None
        if feed is None or feed.closed:
            return self._unbindable(ssrc)
        rtx = pt in feed.rtx_pts
        if not rtx and pt not in feed.media_pts:
            return self._unbindable(ssrc)
        rid_id = ids.repaired_rid if rtx else ids.rid
        layer: int | None = None
        if rid_id and rid_id in values:
            layer = feed.layer_of(values[rid_id].decode("ascii", "replace"))
        elif announced is not None and self.feeds[announced[0]] is feed:
            layer = announced[1]
        elif len(feed.streams) == 1:
            layer = 0
        if layer is None:
            return None  # a simulcast packet without its rid: wait for one that has it
        stream = feed.streams[layer]
        if rtx:
            if stream.ssrc is None:
                return None
            if stream.rtx_ssrc is not None:
                self._rtx.pop(stream.rtx_ssrc, None)
            stream.rtx_ssrc = ssrc
            self._rtx[ssrc] = stream
        else:
            if stream.ssrc is not None:
                self._media.pop(stream.ssrc, None)
            stream.bind(ssrc)
            self._media[ssrc] = stream
        return stream

    def _unbindable(self, ssrc: int) -> None:
        if len(self._unbound) < UNBOUND_MAX:
            self._unbound.add(ssrc)
        return None

    def _estimate(
        self, data: bytes, profile: int, start: int, end: int, size: int, ssrc: int, now: float
    ) -> None:
        """REMB for publishers without transport-wide CC (aiortc's receive-side estimator)."""
        ident = self.ids.abs_send_time
        pos = header.find_extension(data, profile, start, end, ident) if ident else -1
        if pos < 0 or pos + 3 > end:
            return
        abs_send_time = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
        assert self._remb is not None
        remb = self._remb.add(
            abs_send_time=abs_send_time,
            arrival_time_ms=int(now * 1000),
            payload_size=size,
            ssrc=ssrc,
        )
        if remb is not None:
            self.host.send_rtcp(rtcp.remb(self.host.rtcp_ssrc, remb[0], remb[1]))

    # --- RTCP in and out -------------------------------------------------------------------

    def on_sender_report(self, report: rtcp.SenderReport, now: float) -> None:
        stream = self._media.get(report.ssrc)
        if stream is not None:
            stream.on_sender_report(report.ntp, report.rtp, now)

    def send_nack(self, stream: InboundStream, lost: list[int]) -> None:
        if stream.ssrc is not None:
            self.host.send_rtcp(rtcp.nack(self.host.rtcp_ssrc, stream.ssrc, lost))

    def send_pli(self, stream: InboundStream) -> None:
        if stream.ssrc is not None:
            self.host.send_rtcp(rtcp.pli(self.host.rtcp_ssrc, stream.ssrc))

    def streams(self) -> list[InboundStream]:
        return [stream for feed in self.feeds for stream in feed.streams]

    def report_blocks(self, now: float) -> list[rtcp.ReportBlock]:
        return [b for s in self.streams() if (b := s.report(now)) is not None]

    # --- periodic --------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """NACK retries and transport-wide feedback (every tick)."""
        for feed in self.feeds:
            for stream in feed.streams:
                if stream.missing:
                    stream.nack_due(now)
        if self.feedback is not None:
            media = next((s.ssrc for s in self.streams() if s.ssrc is not None), 0)
            packet = self.feedback.build(self.host.rtcp_ssrc, media)
            if packet:
                self.host.send_rtcp(packet)

    def measure(self, elapsed: float) -> None:
        """Layer bitrates (every half second or so)."""
        for stream in self.streams():
            stream.measure(elapsed)

    def announce_layers(self, now: float) -> None:
        """Tell each simulcast publisher which rids anyone receives, when that changes."""
        for feed in self.feeds:
            mid = feed.publication.transceiver.mid
            if not feed.simulcast or feed.closed or mid is None or not feed.publication.live:
                continue
            wanted = feed.wanted()
            if not wanted:
                continue  # nobody subscribes: leave the encodings as they are
            # Every rid counts as wanted when the first subscriber came (the publisher
            # sends them all until told otherwise).
            times = self._wanted_at.setdefault(feed, dict.fromkeys(feed.rids, now))
            for rid in wanted:
                times[rid] = now
            active = [
                rid for rid in feed.rids if now - times.get(rid, -LAYER_OFF_AFTER) < LAYER_OFF_AFTER
            ]
            if self._layers_sent.get(feed) == active:
                continue
            self._layers_sent[feed] = active
            self.host.notify(protocol.layers(mid, active))
