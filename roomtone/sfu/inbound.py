"""One layer of a publication as it arrives: sequence numbers, loss, reports, keyframes, rate.

An InboundStream is one SSRC of a publisher (one simulcast layer, or the only
stream of a track) plus its RTX SSRC. For every packet it keeps the
extended sequence number (RFC 3550 A.1), notes gaps to NACK, updates the
interarrival jitter, recognises VP8 keyframes, and hands the packet to the
subscriber lines attached to it (`sinks`) with the payload sliced once, so
every subscriber shares the same payload bytes. Periodically it yields the
receiver-report block, the NACKs still due, and its measured bitrate.

The uplink (uplink.py) finds the stream of each packet and sends the RTCP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from roomtone.sfu.rtp import vp8
from roomtone.sfu.rtp.rtcp import ReportBlock

if TYPE_CHECKING:
    from roomtone.sfu.rtp.vp8 import Descriptor

NACK_INTERVAL = 0.1  # seconds between NACKs for a still missing packet
NACK_TRIES = 8
NACK_WINDOW = 1024  # a forward jump larger than this is a restart, not loss
MISSING_MAX = 256
RESTART_GAP = 0x2000  # a packet this far behind the newest: the sender restarted its sequence
RATE_ALPHA = 0.5  # weight of the newest bitrate sample


class Sink(Protocol):
    """A subscriber line attached to a stream (outbound.OutboundLine)."""

    def on_packet(
        self,
        stream: InboundStream,
        ext: int,
        timestamp: int,
        marker: int,
        desc: Descriptor | None,
        head: bytes,
        tail: bytes,
        now: float,
    ) -> None: ...

    def detach(self) -> None:
        """Stop forwarding (the publication ended)."""

    def restart(self, stream: InboundStream) -> None:
        """`stream` now comes from another SSRC: its numbering starts over."""


class Uplink(Protocol):
    def send_nack(self, stream: InboundStream, lost: list[int]) -> None: ...


class InboundStream:
    """One received RTP stream (one layer); see the module docstring."""

    __slots__ = (
        "_arrival_prior",
        "_expected_prior",
        "_last_transit",
        "_nack_at",
        "_octets",
        "_received_prior",
        "_rtp_prior",
        "base",
        "bitrate",
        "clock_rate",
        "jitter_q4",
        "keyframe_at",
        "kind",
        "last_at",
        "layer",
        "max_seq",
        "missing",
        "received",
        "rid",
        "rtx_ssrc",
        "sinks",
        "sr_at",
        "sr_ntp",
        "sr_rtp",
        "ssrc",
        "uplink",
        "video",
    )

    def __init__(self, uplink: Uplink, kind: str, layer: int, rid: str | None) -> None:
        self.uplink = uplink
        self.kind = kind
        self.video = kind == "video"
        self.clock_rate = 90000 if self.video else 48000
        self.layer = layer
        self.rid = rid
        self.ssrc: int | None = None
        self.rtx_ssrc: int | None = None
        self.sinks: tuple[Sink, ...] = ()  # replaced, never mutated: safe to change mid-fan-out
        self._reset()
        self.bitrate = 0.0  # bits/s, smoothed
        self._octets = 0
        self.last_at = -1.0
        self.keyframe_at = -1.0
        self.sr_ntp = self.sr_rtp = 0
        self.sr_at = -1.0

    def _reset(self) -> None:
        self.max_seq = -1  # extended
        self.base = 0
        self.received = 0
        self._expected_prior = self._received_prior = 0
        self.jitter_q4 = 0
        self._last_transit: int | None = None
        self._arrival_prior = 0.0
        self._rtp_prior = 0
        self.missing: dict[int, int] = {}  # extended seq → NACKs sent
        self._nack_at = 0.0

    def attach(self, sink: Sink) -> None:
        if sink not in self.sinks:
            self.sinks = (*self.sinks, sink)

    def detach(self, sink: Sink) -> None:
        if sink in self.sinks:
            self.sinks = tuple(s for s in self.sinks if s is not sink)

    def bind(self, ssrc: int) -> None:
        """Packets now come from `ssrc` (a new stream for this layer: lines restart on it)."""
        if self.ssrc is not None and self.ssrc != ssrc:
            self._reset()
            self.ssrc = ssrc
            for sink in self.sinks:
                sink.restart(self)
        self.ssrc = ssrc

    # --- per packet ------------------------------------------------------------------------

    def receive(
        self, data: bytes, payload: int, end: int, seq: int, timestamp: int, now: float
    ) -> None:
        """One unprotected packet of this stream (an RTX packet already unwrapped)."""
        self._octets += len(data)
        self.last_at = now
        top = self.max_seq
        if top < 0:
            ext = self.base = seq
        else:
            delta = (seq - top) & 0xFFFF
            if delta == 0:
                return
            if delta < 0x8000:
                ext = top + delta
                if delta > 1:
                    self._gap(top, delta, now)
            else:
                back = 0x10000 - delta
                ext = top - back
                if ext in self.missing:
                    del self.missing[ext]
                elif back < RESTART_GAP:
                    return  # a duplicate, or too late to matter
                else:
                    ext = top + delta  # the sender restarted its numbering: go on from here
                    self.missing.clear()
        if ext > top:
            self.max_seq = ext
            transit = int(now * self.clock_rate) - timestamp
            last = self._last_transit
            if last is not None:
                d = transit - last
                self.jitter_q4 += (d if d >= 0 else -d) - ((self.jitter_q4 + 8) >> 4)
            self._last_transit = transit
        self.received += 1
        sinks = self.sinks
        marker = data[1] & 0x80
        if self.video:
            if payload == end:  # padding only: forwarded as an empty packet, keeps the numbering
                if sinks:
                    for sink in sinks:
                        sink.on_packet(self, ext, timestamp, marker, None, b"", b"", now)
                return
            desc = vp8.parse(data, payload, end)
            if desc is None:
                return
            if desc[2]:  # keyframe
                self.keyframe_at = now
            if sinks:
                split = payload + desc[0]
                head, tail = data[payload:split], data[split:end]
                for sink in sinks:
                    sink.on_packet(self, ext, timestamp, marker, desc, head, tail, now)
        elif sinks:
            body = data[payload:end]
            for sink in sinks:
                sink.on_packet(self, ext, timestamp, marker, None, b"", body, now)

    def _gap(self, top: int, delta: int, now: float) -> None:
        if delta > NACK_WINDOW or not self.video:
            return  # audio is not retransmitted; a huge jump is a restart
        missing = self.missing
        for ext in range(top + 1, top + delta):
            missing[ext] = 0
        while len(missing) > MISSING_MAX:
            del missing[next(iter(missing))]
        self._nack_at = 0.0
        self.nack_due(now)

    # --- periodic --------------------------------------------------------------------------

    def nack_due(self, now: float) -> None:
        """Ask the publisher again for what is still missing (bounded retries)."""
        if not self.missing or now < self._nack_at:
            return
        self._nack_at = now + NACK_INTERVAL
        floor = self.max_seq - NACK_WINDOW
        lost = []
        for ext, tries in list(self.missing.items()):
            if tries >= NACK_TRIES or ext < floor:
                del self.missing[ext]
                continue
            self.missing[ext] = tries + 1
            lost.append(ext & 0xFFFF)
        if lost:
            self.uplink.send_nack(self, lost)

    def measure(self, elapsed: float) -> None:
        """Fold the bytes since the last call into the smoothed bitrate.

        An interval without packets leaves it as it was: a layer the publisher
        stopped keeps the rate it had, which is what resuming it would cost.
        """
        if elapsed <= 0 or not self._octets:
            return
        sample = self._octets * 8 / elapsed
        self._octets = 0
        if self.bitrate == 0:
            self.bitrate = sample
        else:
            self.bitrate = RATE_ALPHA * sample + (1 - RATE_ALPHA) * self.bitrate

    def flowing(self, now: float, within: float = 2.0) -> bool:
        return self.last_at >= 0 and now - self.last_at < within

    def report(self, now: float) -> ReportBlock | None:
        """The receiver-report block for this stream (RFC 3550 §6.4.1), None before any packet."""
        if self.ssrc is None or self.max_seq < 0:
            return None
        expected = self.max_seq - self.base + 1
        interval = expected - self._expected_prior
        got = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        lost_interval = interval - got
        fraction = (lost_interval << 8) // interval if interval > 0 and lost_interval > 0 else 0
        lsr = dlsr = 0
        if self.sr_at >= 0:
            lsr = (self.sr_ntp >> 16) & 0xFFFFFFFF
            dlsr = int((now - self.sr_at) * 65536)
        return ReportBlock(
            self.ssrc,
            min(fraction, 255),
            expected - self.received,
            self.max_seq & 0xFFFFFFFF,
            self.jitter_q4 >> 4,
            lsr,
            dlsr,
        )

    # --- sender reports: the publisher's RTP clock against its wall clock ---------------------

    def on_sender_report(self, ntp: int, rtp: int, now: float) -> None:
        self.sr_ntp, self.sr_rtp, self.sr_at = ntp, rtp, now

    def rtp_now(self, now: float) -> int | None:
        """This stream's RTP timestamp at `now` (local monotonic), from its latest SR."""
        if self.sr_at < 0:
            return None
        return (self.sr_rtp + int((now - self.sr_at) * self.clock_rate)) & 0xFFFFFFFF

    def sr_seconds(self, timestamp: int) -> float | None:
        """When (publisher NTP seconds) the sample with RTP `timestamp` was captured."""
        if self.sr_at < 0:
            return None
        delta = (timestamp - self.sr_rtp) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        return self.sr_ntp / 4294967296.0 + delta / self.clock_rate

    def rtp_at_seconds(self, seconds: float) -> int | None:
        """This stream's RTP timestamp for publisher NTP time `seconds`."""
        if self.sr_at < 0:
            return None
        return (self.sr_rtp + round((seconds - self.sr_ntp / 4294967296.0) * self.clock_rate)) & (
            0xFFFFFFFF
        )
