"""One server→subscriber m-line of the packet strategy: a packet of the chosen layer,
rewritten for this line, goes out on arrival.

Per line: its own SSRC (from the server's SDP), a sequence number space that
stays continuous across layer switches, pauses and publication changes
(`seq_delta`), an RTP timestamp that keeps moving forward (`ts_delta`, set at
each switch from the publishers' sender reports or, without them, from the
time elapsed), VP8 PictureID and TL0PICIDX made continuous the same way, and
the header extensions this subscriber negotiated (negotiated.py: the numbers
and the header writers they make). The payload after the VP8 descriptor is
the shared `tail` from the inbound stream; only the header and (after a
switch) the few descriptor bytes are built per line.

A switch (or the start, or a resume) happens at the first packet of a
keyframe of the target layer: until it arrives, the line keeps forwarding its
current layer and asks for one. A pause takes effect at the next frame
boundary. The packets sent lately answer NACKs and pad probes (history.py); sender
reports map the line's timestamps to wall-clock time. Audio is kept in the
history too: a subscriber that lost an Opus packet may NACK it (simulcast.py
offers audio NACK), and it goes out again as it was, once, while still recent.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

from aiortc import RTCRtpTransceiver

from roomtone.sfu.history import MASK, History
from roomtone.sfu.negotiated import Negotiated
from roomtone.sfu.rtp import rtcp, vp8
from roomtone.sfu.rtp.header import HeaderPacker

if TYPE_CHECKING:
    from roomtone.sfu.inbound import InboundStream
    from roomtone.sfu.layers import Layers
    from roomtone.sfu.publishing import Publication
    from roomtone.sfu.rtp.vp8 import Descriptor

MAX_TS_JUMP = 5.0  # seconds: an SR-based timestamp step beyond this is not trusted
AUDIO_REPAIR_PACKETS = 16  # an Opus packet older than this many (~320 ms) is not resent
_NTP_UNIX_OFFSET = 2208988800


class LineHost(Protocol):
    """What a line needs of its subscriber connection (downlink.Downlink)."""

    ready: bool  # packets can be sent (DTLS is up)

    def send_packet(self, packet: bytes, transport_seq: int, now: float) -> None:
        """Protect and send (transport_seq: -1 unless transport-wide CC is negotiated)."""

    def send_video(self, item: tuple[Any, ...], size: int) -> None:
        """Pace (line, second, seq, timestamp, head, tail); the pacer calls `emit` with it,
        or, when `second` is -1, `history.resend(line, seq, now)` (a NACKed packet)."""

    def transport_seq(self) -> int: ...

    def line_attached(self, line: OutboundLine) -> None: ...


class OutboundLine:
    """OutgoingLine: see the module docstring."""

    def __init__(self, host: LineHost, kind: str, transceiver: RTCRtpTransceiver) -> None:
        self.host = host
        self.kind = kind
        self.video = kind == "video"
        self.clock_rate = 90000 if self.video else 48000
        self.transceiver = transceiver
        self.publication: Publication | None = None
        self.feed: Layers | None = None
        self.stream: InboundStream | None = None  # the layer being forwarded
        self.source: InboundStream | None = None  # the last one forwarded (timestamps continue it)
        self.pending: InboundStream | None = None  # the layer to switch to at its next keyframe
        self.target: int | None = None  # the layer the allocation chose (None: paused)
        self.stopping = False  # pause at the next frame boundary
        self.negotiated: Negotiated | None = None
        self.pack: HeaderPacker | None = None  # this line's RTP header (header.header_writer)
        self.rtx_pack: HeaderPacker | None = None  # …and its RTX stream's, when negotiated
        self.header_size = 12
        self.pt = 0
        self.tcc = False
        # continuity across switches: deltas from input to output numbering
        self.seq_delta = 0
        self.ts_delta = 0
        self.pid_delta = 0
        self.tl0_delta = 0
        self.start_ext = 0  # first input sequence number (extended) of the current layer
        self.out_ext: int | None = None  # highest output sequence number sent (extended)
        self.last_ts: int | None = None  # output timestamp of the newest packet
        self.last_in_ts = 0
        self.last_at = 0.0
        self.last_pid: int | None = None
        self.last_tl0: int | None = None
        self.history = History()
        self._audio_resent: dict[int, None] = {}  # audio sequence numbers resent lately
        self.packets = 0
        self.octets = 0
        self.keyframe_requests = 0  # from the subscriber

    def __repr__(self) -> str:
        return f"OutboundLine({self.kind} mid={self.transceiver.mid} {self.publication!r})"

    # --- negotiation -----------------------------------------------------------------------

    def configure(self, numbers: Negotiated) -> None:
        if numbers == self.negotiated:
            return
        self.negotiated = numbers
        self.pt = numbers.pt
        self.pack, self.header_size, self.rtx_pack = numbers.header_writers()
        self.tcc = bool(numbers.tcc_id)

    # --- OutgoingLine ----------------------------------------------------------------------

    def attach(self, publication: Publication) -> None:
        """Start forwarding `publication` (from its next keyframe, for video)."""
        from roomtone.sfu.layers import Layers

        feed = publication.feed
        if not isinstance(feed, Layers):
            raise TypeError(f"{publication!r} was not received by the packet strategy")
        self.detach()
        self.publication = publication
        self.feed = feed
        if not self.video:
            self.select(0)
        self.host.line_attached(self)

    def detach(self) -> None:
        """Stop forwarding; numbering state stays, so the next publication continues it."""
        for stream in (self.stream, self.pending):
            if stream is not None:
                stream.detach(self)
        if self.feed is not None:
            self.feed.forget(self)
        self.stream = self.pending = None
        self.publication = self.feed = None
        self.target = None
        self.stopping = False

    # --- the allocation's choice -----------------------------------------------------------

    def select(self, layer: int | None) -> None:
        """Forward `layer` from its next keyframe on (None: pause at the next frame boundary)."""
        feed = self.feed
        self.target = layer
        if feed is None:
            return
        if layer is None or layer >= len(feed.streams):
            self._cancel_pending()
            self.stopping = self.stream is not None
            self.target = None
            return
        stream = feed.streams[layer]
        if stream is self.stream:
            self.stopping = False
            self._cancel_pending()
            return
        if self.pending is not stream:
            self._cancel_pending()
            self.pending = stream
            stream.attach(self)
        if self.video:
            feed.request_keyframe(layer)

    def restart(self, stream: InboundStream) -> None:
        """The publisher's stream changed SSRC: start on it again as after a switch."""
        if stream is self.stream:
            self.stream = None
            self.pending = stream
            self.stopping = False
            self.refresh()

    def _cancel_pending(self) -> None:
        if self.pending is not None:
            self.pending.detach(self)
            self.pending = None

    def want(self, layers: set[int]) -> None:
        """The allocation's view of which layers this line needs (see Layers.wanted)."""
        if self.feed is not None:
            self.feed.want(self, layers)

    @property
    def publication_key(self) -> str:
        return self.feed.key if self.feed is not None else ""

    @property
    def layer(self) -> int | None:
        """The layer being forwarded now (None: nothing)."""
        return None if self.stream is None or self.stopping else self.stream.layer

    @property
    def paused(self) -> bool:
        return self.video and self.feed is not None and self.target is None

    def request_keyframe(self) -> None:
        """The subscriber sent a PLI or FIR: ask for a keyframe of what it receives."""
        self.keyframe_requests += 1
        self.refresh()

    def refresh(self) -> None:
        """Ask for a keyframe of the layer this line forwards (or waits for)."""
        stream = self.stream or self.pending
        if self.feed is not None and stream is not None:
            self.feed.request_keyframe(stream.layer)

    # --- per packet ------------------------------------------------------------------------

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
    ) -> None:
        """A packet of a stream this line forwards or waits for (hot path)."""
        if stream is not self.stream:
            if stream is not self.pending or self.pack is None or not self.host.ready:
                return
            if self.video and (desc is None or not desc[2]):
                return  # wait for the target layer's keyframe
            self._begin(stream, ext, timestamp, desc, now)
        elif self.stopping and (desc is None or desc[1]):
            self._stop()
            return
        if ext < self.start_ext:
            return  # from before the switch
        out = ext + self.seq_delta
        ts = (timestamp + self.ts_delta) & 0xFFFFFFFF
        if desc is not None and desc[3] >= 0:
            pid = (desc[3] + self.pid_delta) & 0x7FFF
            tl0 = (desc[5] + self.tl0_delta) & 0xFF if desc[5] >= 0 else -1
            if self.pid_delta or self.tl0_delta:
                head = vp8.rewrite(head, 0, desc, pid, tl0)
            if out > self.out_ext:  # type: ignore[operator]
                self.last_pid, self.last_tl0 = pid, tl0
        if out > self.out_ext:  # type: ignore[operator]
            self.out_ext = out
            self.last_ts, self.last_in_ts, self.last_at = ts, timestamp, now
        if self.video:
            size = self.header_size + len(head) + len(tail)
            self.host.send_video((self, marker | self.pt, out & 0xFFFF, ts, head, tail), size)
        else:
            self.emit(marker | self.pt, out & 0xFFFF, ts, head, tail, now)

    def emit(self, second: int, seq: int, ts: int, head: bytes, tail: bytes, now: float) -> None:
        """Build the packet (header, descriptor, shared payload), keep it, send it."""
        host = self.host
        tseq = host.transport_seq() if self.tcc else -1
        hdr = self.pack(second, seq, ts, int(now * 262144) & 0xFFFFFF, tseq)  # type: ignore[misc]
        if self.video:
            head = hdr + head
            history = self.history
            history.heads[seq & MASK] = head
            history.tails[seq & MASK] = tail
            history.newest = seq
            packet = head + tail
        else:  # audio is kept too: NACKed audio (simulcast.py) is sent again as it was
            history = self.history
            history.heads[seq & MASK] = hdr
            history.tails[seq & MASK] = tail
            packet = hdr + tail
        self.packets += 1
        self.octets += len(packet) - self.header_size
        host.send_packet(packet, tseq, now)

    def _begin(
        self, stream: InboundStream, ext: int, timestamp: int, desc: Descriptor | None, now: float
    ) -> None:
        """Switch to `stream` at this packet: continue every numbering from where it stood."""
        old = self.stream
        if old is not None:
            old.detach(self)
        old = old or self.source
        self.pending = None
        self.stream = self.source = stream
        self.stopping = False
        self.start_ext = ext
        if self.out_ext is None:
            self.out_ext = random.getrandbits(15) - 1
        self.seq_delta = self.out_ext + 1 - ext
        if self.last_ts is None:
            self.ts_delta = 0
        else:
            step = self._sr_step(old, stream, timestamp)
            if step is None:
                step = max(1, round((now - self.last_at) * self.clock_rate))
            self.ts_delta = (self.last_ts + step - timestamp) & 0xFFFFFFFF
        if desc is not None and desc[3] >= 0:
            if self.last_pid is not None:
                self.pid_delta = (self.last_pid + 1 - desc[3]) & 0x7FFF
            if desc[5] >= 0 and self.last_tl0 is not None:
                self.tl0_delta = (self.last_tl0 + 1 - desc[5]) & 0xFF

    def _sr_step(self, old: InboundStream | None, new: InboundStream, timestamp: int) -> int | None:
        """Ticks from the last forwarded sample to this one, by the publisher's clock (its SRs)."""
        if old is None:
            return None
        then = old.sr_seconds(self.last_in_ts)
        at = new.sr_seconds(timestamp)
        if then is None or at is None or not 0 < at - then < MAX_TS_JUMP:
            return None
        return max(1, round((at - then) * self.clock_rate))

    def _stop(self) -> None:
        """The pause takes effect: nothing more of the current layer."""
        if self.stream is not None:
            self.stream.detach(self)
        self.stream = None
        self.stopping = False

    # --- retransmission and reports --------------------------------------------------------

    def retransmit(self, lost: list[int], now: float) -> None:
        """Answer a NACK from the history: RTX when negotiated, else the packet again.

        Audio goes at once. Video goes through the pacer like the rest of the
        line's video: on a slow link a subscriber NACKs what the bottleneck
        dropped, each packet up to ten times, and answered at once those
        repairs filled the link ahead of the audio (traced at 150 kbit/s:
        a third of the audio concealed for seconds after the videos paused).
        Nothing is resent for a paused line (nothing of it is decoded before
        the resume's keyframe), nor from before the current layer's keyframe.
        """
        if self.negotiated is None:
            return
        if not self.video:
            self._repair_audio(lost, now)
            return
        if self.stream is None or self.stopping or self.target is None:
            return
        first = (self.start_ext + self.seq_delta) & 0xFFFF  # the current layer's first packet
        history = self.history
        for seq in lost:
            if (seq - first) & 0xFFFF >= 0x8000:
                continue
            size = history.size(seq)
            if size:
                self.host.send_video((self, -1, seq, 0, b"", b""), size)

    def _repair_audio(self, lost: list[int], now: float) -> None:
        """Each lost Opus packet once, and only while it can still be played.

        A subscriber's jitter buffer NACKs what is late as well as what is
        lost, again and again while a queue stands at its bottleneck; answered
        every time, the repairs (250-400 kbit/s, traced at 150 kbit/s) kept the
        queue standing and concealed a third of the audio they were to save.
        """
        if self.out_ext is None:
            return
        newest = self.out_ext & 0xFFFF
        resent = self._audio_resent
        for seq in lost:
            if (newest - seq) & 0xFFFF >= AUDIO_REPAIR_PACKETS or seq in resent:
                continue
            resent[seq] = None
            self.history.resend(self, seq, now)
        while len(resent) > AUDIO_REPAIR_PACKETS:
            del resent[next(iter(resent))]

    @property
    def can_pad(self) -> bool:
        return self.rtx_pack is not None and self.host.ready

    def pad(self, size: int, now: float) -> int:
        """Probe padding on this line's RTX stream (history.History.pad); bytes sent."""
        return self.history.pad(self, size, now) if self.can_pad else 0

    def sender_report(self, now: float, wall: float) -> bytes | None:
        """An SR for this line: now's RTP timestamp, from the publisher's SR or the last packet."""
        negotiated = self.negotiated
        if negotiated is None or self.last_ts is None:
            return None
        rtp = None
        if self.source is not None:
            source = self.source.rtp_now(now)
            if source is not None:
                rtp = (source + self.ts_delta) & 0xFFFFFFFF
        if rtp is None:
            rtp = (self.last_ts + int((now - self.last_at) * self.clock_rate)) & 0xFFFFFFFF
        ntp = int((wall + _NTP_UNIX_OFFSET) * 4294967296.0)
        return rtcp.sender_report(negotiated.ssrc, ntp, rtp, self.packets, self.octets)
