"""The subscriber side of one connection: its lines, the bandwidth estimate from its
feedback, which layer each video line gets, and the pacer its video goes through.

RTCP from the subscriber: NACKs are answered from the line's history, PLI and
FIR become keyframe requests for the layer the line receives; transport-wide
feedback, REMB, receiver-report loss and RTT feed the estimate
(bandwidth.estimator: TWCC when the subscriber negotiated it, else REMB).
Every ALLOCATE_INTERVAL the allocator (bandwidth.allocator) splits the
estimate, minus the audio being forwarded, over the video lines; a line
switches at the target layer's next keyframe, or pauses. Video goes through
the pacer (bandwidth.pacer), audio around it; probes are padded with RTX
copies of recent packets. The subscriber hears about it in `video-paused`
and `link-quality` messages (docs/PROTOCOL.md).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Protocol

from aiortc import RTCPeerConnection

from roomtone import protocol
from roomtone.sfu.bandwidth.allocator import Allocation, Allocator, Line
from roomtone.sfu.bandwidth.estimator import MAX_BITRATE, BandwidthEstimator
from roomtone.sfu.bandwidth.pacer import Pacer
from roomtone.sfu.bandwidth.twcc import parse_feedback
from roomtone.sfu.media import codec_preferences
from roomtone.sfu.negotiated import Negotiated
from roomtone.sfu.outbound import OutboundLine
from roomtone.sfu.rtp import rtcp
from roomtone.sfu.rtp.extensions import ABS_SEND_TIME, MID, TRANSPORT_CC
from roomtone.sfu.sdpmedia import RtpSection

log = logging.getLogger(__name__)

ALLOCATE_INTERVAL = 0.1  # seconds
QUALITY_INTERVAL = 2.0  # at most one link-quality message per this many seconds
REPORTS_KEPT = 16  # sender reports remembered for RTT from the subscriber's receiver reports


class DownlinkHost(Protocol):
    """What the downlink needs of its connection (endpoint.Endpoint)."""

    def send_rtp(self, packet: bytes) -> int: ...

    def notify(self, message: dict[str, Any]) -> None: ...

    def start_line(self, line: OutboundLine) -> None: ...


class Downlink:
    """See the module docstring."""

    def __init__(self, host: DownlinkHost, pc: RTCPeerConnection) -> None:
        self.host = host
        self.pc = pc
        self.lines: list[OutboundLine] = []
        self._by_ssrc: dict[int, OutboundLine] = {}
        self.estimator = BandwidthEstimator()
        self.transport_cc = True  # until the first answer says otherwise
        self.allocator = Allocator()
        self.pacer = Pacer(
            self._send_paced,
            asyncio.get_running_loop().call_later,
            time.monotonic,
            send_padding=self._pad,
            on_drop=self._dropped,
            target=self.estimator.target,
        )
        self.allocation: Allocation | None = None
        self.fixed_budget: float | None = (
            None  # tests and benches: a budget instead of the estimate
        )
        self.ready = False  # the wire is up: lines may start
        self._tseq = random.getrandbits(16)
        self._untracked = 0  # bytes sent without transport-wide numbers since the last tick
        self._allocated_at = -1.0
        self._reports: dict[int, float] = {}  # middle 32 bits of an SR's NTP time → sent at
        self._pad_from = 0
        self._paused: frozenset[str] = frozenset()
        self._quality: str | None = None
        self._quality_at = -QUALITY_INTERVAL

    # --- lines -----------------------------------------------------------------------------

    def add_line(self, kind: str) -> OutboundLine:
        transceiver = self.pc.addTransceiver(kind, direction="sendonly")
        transceiver.setCodecPreferences(codec_preferences(kind))
        line = OutboundLine(self, kind, transceiver)
        self.host.start_line(line)
        self.lines.append(line)
        return line

    def negotiated(
        self, local: dict[str, RtpSection], remote: dict[str, RtpSection], agreed: dict[str, int]
    ) -> None:
        """An offer/answer completed: each sending line's SSRCs, payload types and extension ids."""
        self._by_ssrc.clear()
        for line in self.lines:
            mid = line.transceiver.mid
            mine = local.get(mid) if mid is not None else None
            theirs = remote.get(mid) if mid is not None else None
            if mine is None or theirs is None or not mine.media_ssrcs:
                continue
            pt = theirs.payload_type("vp8" if line.video else "opus")
            if pt is None:
                continue
            ssrc = mine.media_ssrcs[0]
            rtx_pt, rtx_ssrc = theirs.rtx_for(pt), mine.fid.get(ssrc)
            if rtx_pt is None or rtx_ssrc is None:
                rtx_pt = rtx_ssrc = None
            feedback = theirs.feedback.get(pt, ())
            numbers = Negotiated(
                ssrc,
                pt,
                rtx_ssrc=rtx_ssrc,
                rtx_pt=rtx_pt,
                mid=mid or "",
                mid_id=agreed.get(MID, 0),
                abs_id=agreed.get(ABS_SEND_TIME, 0),
                tcc_id=agreed.get(TRANSPORT_CC, 0) if "transport-cc" in feedback else 0,
            )
            line.configure(numbers)
            self._by_ssrc[ssrc] = line
            if rtx_ssrc is not None:
                self._by_ssrc[rtx_ssrc] = line
        configured = [line for line in self.lines if line.negotiated is not None]
        if configured:
            self._estimate_with(transport_cc=any(line.tcc for line in configured))

    def _estimate_with(self, *, transport_cc: bool) -> None:
        """TWCC subscribers get the full estimate; the others a loss-based one from the top.

        Without transport-wide feedback the only rate a subscriber reports is
        REMB, and aiortc's (the peers without TWCC) covers video only, starts at
        what arrives, never grows beyond 1.5 × that and cannot see probe
        padding once two video lines share the RTX payload type: taken as the
        rate it pauses everything within seconds. So such a subscriber is
        limited by loss and by its feedback stalling only, starting at the most
        the estimator allows.
        """
        if transport_cc == self.transport_cc:
            return
        self.transport_cc = transport_cc
        estimator = (
            BandwidthEstimator() if transport_cc else BandwidthEstimator(start_bitrate=MAX_BITRATE)
        )
        # As if a clean report came now: a subscriber that never sends one stalls from here.
        estimator.on_loss_report(0.0, time.monotonic())
        self.estimator = estimator
        self.pacer.set_target(estimator.target)

    def started(self) -> None:
        """The wire is up: lines may start, at keyframes asked for now (earlier ones were lost)."""
        self.ready = True
        for line in self.lines:
            if line.feed is not None and line.pending is not None:
                line.feed.request_keyframe(line.pending.layer)

    # --- sending (LineHost) ----------------------------------------------------------------

    def send_video(self, item: tuple[Any, ...], size: int) -> None:
        """A video packet to pace: (line, second, seq, timestamp, head, tail)."""
        self.pacer.enqueue(item, size)

    def _send_paced(self, item: tuple[Any, ...]) -> None:
        line, second, seq, timestamp, head, tail = item
        if second < 0:  # a NACKed packet (OutboundLine.retransmit)
            line.history.resend(line, seq, time.monotonic())
        else:
            line.emit(second, seq, timestamp, head, tail, time.monotonic())

    def send_packet(self, packet: bytes, transport_seq: int, now: float) -> None:
        if not self.host.send_rtp(packet):
            return
        if transport_seq >= 0:
            self.estimator.on_sent(transport_seq, len(packet), now, self.pacer.probe_cluster)
        else:
            self._untracked += len(packet)

    def transport_seq(self) -> int:
        self._tseq = seq = (self._tseq + 1) & 0xFFFF
        return seq

    def line_attached(self, line: OutboundLine) -> None:
        if line.video:
            self.allocate(time.monotonic(), force=True)

    def _pad(self, size: int, cluster: int) -> int:
        """A probe wants `size` bytes more: an RTX copy of a recent packet of some line."""
        lines = [line for line in self.lines if line.video and line.can_pad]
        for i in range(len(lines)):
            line = lines[(self._pad_from + i) % len(lines)]
            sent = line.pad(size, time.monotonic())
            if sent:
                self._pad_from += 1
                return sent
        return 0

    def _dropped(self, items: list[tuple[Any, ...]]) -> None:
        """The pacer dropped video it could not send in time: those lines need a keyframe."""
        for line in {item[0] for item in items}:
            line.refresh()

    # --- RTCP from the subscriber ----------------------------------------------------------

    def on_rtcp(self, item: rtcp.Item, now: float) -> None:
        if isinstance(item, rtcp.Nack):
            line = self._by_ssrc.get(item.media)
            if line is not None:
                line.retransmit(item.lost, now)
        elif isinstance(item, rtcp.Pli):
            line = self._by_ssrc.get(item.media)
            if line is not None:
                line.request_keyframe()
        elif isinstance(item, rtcp.Fir):
            for ssrc in item.media:
                line = self._by_ssrc.get(ssrc)
                if line is not None:
                    line.request_keyframe()
        elif isinstance(item, rtcp.TransportFeedback):
            try:
                feedback = parse_feedback(item.fci)
            except ValueError:
                return
            self.estimator.on_feedback(feedback, now)
        elif isinstance(item, rtcp.Remb):
            if self.transport_cc:  # a cap on the TWCC estimate; alone, not a rate (above)
                self.estimator.on_remb(item.bitrate, now)
        elif isinstance(item, (rtcp.ReceiverReport, rtcp.SenderReport)):
            for block in item.reports:
                if block.ssrc in self._by_ssrc:
                    self._report_block(block, now)

    def _report_block(self, block: rtcp.ReportBlock, now: float) -> None:
        self.estimator.on_loss_report(block.fraction_lost / 256, now)
        sent = self._reports.get(block.lsr)
        if sent is not None and block.lsr:
            rtt = now - sent - block.dlsr / 65536
            if 0 < rtt < 10:
                self.estimator.on_rtt(rtt, now)

    def sender_reports(self, now: float, wall: float) -> list[bytes]:
        reports = []
        for line in self.lines:
            report = line.sender_report(now, wall)
            if report is not None:
                reports.append(report)
                self._reports[int.from_bytes(report[10:14], "big")] = now  # NTP's middle 32 bits
        while len(self._reports) > REPORTS_KEPT:
            del self._reports[next(iter(self._reports))]
        return reports

    # --- the control loop ------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Every endpoint tick: stalls, then (every ALLOCATE_INTERVAL) layers, pacing, probes."""
        estimator = self.estimator
        if self._untracked:
            # Without transport-wide numbers the estimator only needs to know that we send
            # (a subscriber silent while we do is stalled): once per tick is enough.
            estimator.on_sent(self.transport_seq(), self._untracked, now, None)
            self._untracked = 0
        estimator.update(now)
        if now - self._allocated_at < ALLOCATE_INTERVAL:
            return
        self.allocate(now)
        self.pacer.set_target(estimator.target)
        if self.allocation is not None and self.fixed_budget is None:
            for cluster in estimator.probe(now, self.allocation.wanted, self._audio_rate()):
                self.pacer.probe(cluster)

    def _audio_rate(self) -> float:
        return sum(
            line.stream.bitrate for line in self.lines if not line.video and line.stream is not None
        )

    def budget(self, now: float) -> float:
        """Bits/s for video: the estimate less the audio forwarded (audio goes first)."""
        if self.fixed_budget is not None:
            return self.fixed_budget
        return max(0.0, self.estimator.target - self._audio_rate())

    def allocate(self, now: float, *, force: bool = False) -> None:
        """Choose each video line's layer (every ALLOCATE_INTERVAL, or at once when forced)."""
        if not force and now - self._allocated_at < ALLOCATE_INTERVAL:
            return
        self._allocated_at = now
        lines: dict[str, OutboundLine] = {}
        inputs = []
        for line in self.lines:
            feed, mid = line.feed, line.transceiver.mid
            if not line.video or feed is None or mid is None:
                continue
            rates = feed.bitrates(now)
            if all(rate is None for rate in rates):
                continue  # nothing arriving yet (or any more): not the allocation's business
            lines[mid] = line
            inputs.append(Line(mid, line.publication_key, rates))
        allocation = self.allocator.allocate(self.budget(now), inputs, now)
        self.allocation = allocation
        for mid, choice in allocation.lines.items():
            line = lines[mid]
            if choice.layer != line.target:
                log.debug(
                    "mid %s: layer %s → %s (budget %d bit/s, estimate %s)",
                    mid,
                    line.target,
                    choice.layer,
                    allocation.budget,
                    self.estimator.mode,
                )
            if choice.layer != line.target or (
                choice.layer is not None and line.layer != choice.layer
            ):
                line.select(choice.layer)
            line.want({layer for layer in (choice.layer, choice.desired) if layer is not None})
        self._tell(now, allocation)

    def _tell(self, now: float, allocation: Allocation) -> None:
        paused = allocation.paused
        if paused != self._paused:
            self._paused = paused
            self.host.notify(protocol.video_paused(sorted(paused)))
        if not allocation.lines:
            return
        if paused:
            quality = "poor"
        elif allocation.limited:
            quality = "fair"
        else:
            quality = "good"
        if quality != self._quality and now - self._quality_at >= QUALITY_INTERVAL:
            self._quality = quality
            self._quality_at = now
            self.host.notify(protocol.link_quality(quality, int(self.budget(now) / 1000)))

    def close(self) -> None:
        self.pacer.close()
        for line in self.lines:
            line.detach()
