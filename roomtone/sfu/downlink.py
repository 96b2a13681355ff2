"""The subscriber side of one connection: its lines, what it says about them in RTCP,
and which layer each video line gets.

RTCP from the subscriber: NACKs are answered from the line's history, PLI and
FIR become keyframe requests for the layer the line receives, and REMB,
transport-wide feedback and receiver-report loss feed the bandwidth estimate.
Every ALLOCATE_INTERVAL the allocator splits the estimate (minus audio) over
the video lines, lowest layers first; a line switches at the target layer's
next keyframe, or pauses. The subscriber hears about it in `video-paused`
(which of its video m-lines are paused) and `link-quality` messages.
"""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

from aiortc import RTCPeerConnection

from roomtone import protocol
from roomtone.sfu.budget import LayerAllocator, LossEstimate
from roomtone.sfu.media import codec_preferences
from roomtone.sfu.outbound import Negotiated, OutboundLine
from roomtone.sfu.rtp import rtcp
from roomtone.sfu.rtp.extensions import ABS_SEND_TIME, MID, TRANSPORT_CC
from roomtone.sfu.sdpmedia import RtpSection

ALLOCATE_INTERVAL = 0.5  # seconds
QUALITY_INTERVAL = 2.0  # at most one link-quality message per this many seconds
AUDIO_RESERVE = 64_000  # bits/s kept per audio line before video is allocated


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
        now = time.monotonic()
        self.estimate = LossEstimate(now)
        self.allocator = LayerAllocator()
        self.fixed_budget: float | None = (
            None  # tests and benches: a budget instead of the estimate
        )
        self.ready = False  # the wire is up: lines may start
        self._tseq = random.getrandbits(16)
        self._allocated_at = -1.0
        self._paused: frozenset[str] = frozenset()
        self._quality: tuple[str, int] | None = None
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
            codec = "vp8" if line.video else "opus"
            pt = theirs.payload_type(codec)
            if pt is None:
                continue
            ssrc = mine.media_ssrcs[0]
            rtx_pt = theirs.rtx_for(pt)
            numbers = Negotiated(
                ssrc,
                pt,
                rtx_ssrc=mine.fid.get(ssrc) if rtx_pt is not None else None,
                rtx_pt=rtx_pt if mine.fid.get(ssrc) is not None else None,
                mid=mid or "",
                mid_id=agreed.get(MID, 0),
                abs_id=agreed.get(ABS_SEND_TIME, 0),
                tcc_id=agreed.get(TRANSPORT_CC, 0)
                if "transport-cc" in theirs.feedback.get(pt, ())
                else 0,
            )
            line.configure(numbers)
            self._by_ssrc[ssrc] = line
            if numbers.rtx_ssrc is not None:
                self._by_ssrc[numbers.rtx_ssrc] = line

    def started(self) -> None:
        """The wire is up: lines may start, at keyframes asked for now (earlier ones were lost)."""
        self.ready = True
        for line in self.lines:
            if line.feed is not None and line.pending is not None:
                line.feed.request_keyframe(line.pending.layer)

    # --- LineHost --------------------------------------------------------------------------

    def send_packet(self, packet: bytes, transport_seq: int, now: float) -> None:
        size = self.host.send_rtp(packet)
        if transport_seq >= 0 and size:
            self.estimate.on_sent(transport_seq, size, now, None)

    def transport_seq(self) -> int:
        self._tseq = seq = (self._tseq + 1) & 0xFFFF
        return seq

    def line_attached(self, line: OutboundLine) -> None:
        if line.video:
            self.allocate(time.monotonic(), force=True)

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
        elif isinstance(item, rtcp.Remb):
            self.estimate.on_remb(item.bitrate, now)
        elif isinstance(item, rtcp.TransportFeedback):
            self.estimate.on_feedback(item.fci, now)
        elif isinstance(item, (rtcp.ReceiverReport, rtcp.SenderReport)):
            fractions = [b.fraction_lost for b in item.reports if b.ssrc in self._by_ssrc]
            if fractions:
                self.estimate.on_loss_report(max(fractions) / 256, now)

    def sender_reports(self, now: float, wall: float) -> list[bytes]:
        return [r for line in self.lines if (r := line.sender_report(now, wall)) is not None]

    # --- allocation ------------------------------------------------------------------------

    def budget(self, now: float) -> float:
        total = self.fixed_budget if self.fixed_budget is not None else self.estimate.target_at(now)
        audio = sum(AUDIO_RESERVE for line in self.lines if not line.video and line.feed)
        return max(0.0, total - audio)

    def allocate(self, now: float, *, force: bool = False) -> None:
        """Choose each video line's layer (every ALLOCATE_INTERVAL, or at once when forced)."""
        if not force and now - self._allocated_at < ALLOCATE_INTERVAL:
            return
        self._allocated_at = now
        video = [line for line in self.lines if line.video and line.feed is not None]
        offers = {line: line.feed.available(now) for line in video}  # type: ignore[union-attr]
        current = {line: line.target for line in video}
        choice = self.allocator.allocate(self.budget(now), offers, current, now)
        for line in video:
            layer = choice.get(line)
            if layer != line.target or (layer is not None and line.layer != layer):
                line.select(layer)
        self._tell(now, video, offers)

    def _tell(self, now: float, video: list[OutboundLine], offers: dict) -> None:
        paused = frozenset(
            line.transceiver.mid for line in video if line.paused and line.transceiver.mid
        )
        if paused != self._paused:
            self._paused = paused
            self.host.notify(protocol.video_paused(sorted(paused)))
        if not video:
            return
        if paused:
            quality = "poor"
        elif any(offers[line] and line.target != offers[line][-1][0] for line in video):
            quality = "fair"
        else:
            quality = "good"
        kbps = int(self.budget(now) / 1000)
        if self._quality is None or self._quality[0] != quality:
            if now - self._quality_at >= QUALITY_INTERVAL:
                self._quality = (quality, kbps)
                self._quality_at = now
                self.host.notify(protocol.link_quality(quality, kbps))

    def close(self) -> None:
        for line in self.lines:
            line.detach()
