"""Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).

Every packet on a connection carries a transport-wide sequence number (a
header extension); the receiver reports, per sequence number, whether the
packet arrived and when (RTCP RTPFB, FMT 15). The sender matches the
reports to its own send times (estimator.py); as a receiver, the SFU builds
them for publishers so their browsers' congestion control adapts.

Wire format, after the two SSRCs of an RTCP feedback packet (the FCI):
base sequence (16) | status count (16) | reference time (24, units of
64 ms) | feedback count (8) | status chunks (16 each) | receive deltas
(units of 250 µs: 1 byte unsigned for "small", 2 bytes signed for "large
or negative"), zero-padded to 32 bits. A chunk is either a run (0 | symbol
(2) | length (13)) or a vector (1 | size bit | 14 one-bit or 7 two-bit
symbols). Symbols: 0 not received, 1 received with a small delta, 2
received with a large or negative delta, 3 reserved. Two known errata of
the draft, resolved as every implementation (and Chrome) does: in one-bit
vectors 1 means received (the draft's prose says the opposite, its example
agrees with us), and symbol 3 is reserved (the draft's examples still use
it as "received without delta"; we reject it).

Sending the feedback (for the caller):
- Send each packet that `FeedbackBuilder.build` returns as its own SRTCP
  packet, never compounded with SR/RR/SDES: Chrome does not take TWCC
  feedback out of a compound packet (reduced-size RTCP, RFC 5506, which
  browsers negotiate with a=rtcp-rsize).
- Record every packet that carries the transport-wide sequence extension,
  whatever its SSRC (RTX, padding, a simulcast layer not bound yet):
  a packet left out is reported as lost, and the sender reads its probes
  as failures.
- Call `build` every 50–100 ms; it returns None when nothing arrived
  (an empty feedback is rejected by libwebrtc).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TICK = 0.00025  # seconds per receive-delta unit
TICKS_PER_REFERENCE = 256  # reference time unit: 64 ms
RTPFB = 205
FMT_TWCC = 15

NOT_RECEIVED = 0
SMALL_DELTA = 1
LARGE_DELTA = 2

_RUN_MAX = 0x1FFF
_LATE_WINDOW = 1024  # a late packet this far below what was reported still reopens the window
_MAX_PENDING = 8192  # arrivals kept between builds (a caller that never builds stays bounded)


@dataclass(frozen=True, slots=True)
class Feedback:
    """One parsed feedback: per reported packet, its sequence number and arrival.

    `packets` holds (transport sequence mod 2**16, arrival in seconds or None
    if not received), in sequence order. Arrivals are in the receiver's
    clock: reference_time × 64 ms plus the deltas, so only differences mean
    anything (and the 24-bit reference time wraps after about 12 days).
    """

    base_seq: int
    status_count: int
    reference_time: int
    fb_count: int
    packets: list[tuple[int, float | None]]


def chunk_symbols(chunk: int) -> list[int]:
    """The symbols of one 16-bit status chunk (a run's full length, not clipped)."""
    if not chunk & 0x8000:
        return [(chunk >> 13) & 3] * (chunk & _RUN_MAX)
    if not chunk & 0x4000:
        return [(chunk >> shift) & 1 for shift in range(13, -1, -1)]
    return [(chunk >> shift) & 3 for shift in range(12, -1, -2)]


def parse_feedback(fci: bytes) -> Feedback:
    """Parse the FCI of a TWCC feedback packet; ValueError if it is malformed."""
    if len(fci) < 8:
        raise ValueError("TWCC feedback shorter than its header")
    base, count, word = struct.unpack_from("!HHI", fci)
    symbols: list[int] = []
    pos = 8
    while len(symbols) < count:
        if pos + 2 > len(fci):
            raise ValueError("TWCC feedback: status chunks end early")
        chunk = (fci[pos] << 8) | fci[pos + 1]
        pos += 2
        if not chunk & 0x8000:  # a run: clip before expanding (a run may be 8191 long)
            symbols.extend([(chunk >> 13) & 3] * min(chunk & _RUN_MAX, count - len(symbols)))
        else:
            symbols.extend(chunk_symbols(chunk))
    del symbols[count:]
    reference = word >> 8
    ticks = reference * TICKS_PER_REFERENCE
    packets: list[tuple[int, float | None]] = []
    for index, symbol in enumerate(symbols):
        seq = (base + index) & 0xFFFF
        if symbol == NOT_RECEIVED:
            packets.append((seq, None))
            continue
        if symbol == SMALL_DELTA:
            if pos + 1 > len(fci):
                raise ValueError("TWCC feedback: receive deltas end early")
            ticks += fci[pos]
            pos += 1
        elif symbol == LARGE_DELTA:
            if pos + 2 > len(fci):
                raise ValueError("TWCC feedback: receive deltas end early")
            ticks += struct.unpack_from("!h", fci, pos)[0]
            pos += 2
        else:
            raise ValueError("TWCC feedback: reserved status symbol")
        packets.append((seq, ticks * TICK))
    return Feedback(base, count, reference, word & 0xFF, packets)


def parse_packet(packet: bytes) -> tuple[int, int, Feedback]:
    """Parse one whole RTPFB/15 packet: (sender SSRC, media SSRC, feedback)."""
    if len(packet) < 12:
        raise ValueError("RTCP packet too short")
    first, packet_type, words = struct.unpack_from("!BBH", packet)
    if first >> 6 != 2 or packet_type != RTPFB or first & 0x1F != FMT_TWCC:
        raise ValueError("not a TWCC feedback packet")
    end = (words + 1) * 4
    if end > len(packet):
        raise ValueError("RTCP length beyond the packet")
    if first & 0x20:
        end -= packet[end - 1]
        if end < 12:
            raise ValueError("RTCP padding beyond the packet")
    sender, media = struct.unpack_from("!II", packet, 4)
    return sender, media, parse_feedback(packet[12:end])


class SequenceUnwrapper:
    """16-bit sequence numbers → a monotonic count (wraps tolerated within ±32767)."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def unwrap(self, seq: int, advance: bool = True) -> int:
        """The unwrapped value of `seq`; only `advance` calls move the reference forward."""
        last = self._last
        if last is None:
            value = 0x10000 + (seq & 0xFFFF)  # room below for slightly older packets
        else:
            value = last + (((seq - last + 0x8000) & 0xFFFF) - 0x8000)
        if advance and (last is None or value > last):
            self._last = value
        return value


class FeedbackBuilder:
    """The receiver side: record arrivals, build one feedback packet per call.

    Each build reports from the first sequence number not reported yet (or a
    late arrival below it, as libwebrtc does, so reordering does not read as
    loss; packets reported before count as "not received" in the overlap, as
    the draft asks) to the highest arrival, at most `max_received` arrivals;
    the rest waits for the next call.
    """

    def __init__(self, max_received: int = 300) -> None:
        self._unwrapper = SequenceUnwrapper()
        self._arrivals: dict[int, int] = {}  # unwrapped seq → arrival in ticks, not reported yet
        self._next: int | None = None  # everything below was reported
        self._fb_count = 0
        self._max_received = max_received

    def record(self, transport_seq: int, arrival: float) -> None:
        """A packet with this transport-wide sequence number arrived (seconds, monotonic)."""
        seq = self._unwrapper.unwrap(transport_seq)
        if self._next is not None and seq < self._next - _LATE_WINDOW:
            return
        if len(self._arrivals) < _MAX_PENDING:
            self._arrivals.setdefault(seq, round(arrival / TICK))

    def build(self, sender_ssrc: int, media_ssrc: int) -> bytes | None:
        """One RTCP RTPFB/15 packet for what arrived since the last call, or None."""
        if not self._arrivals:
            return None
        arrivals = self._arrivals
        seqs = sorted(arrivals)
        base = seqs[0]
        if self._next is not None and self._next < base and base - self._next < 0x8000:
            base = self._next  # the packets in between are reported lost
        reference = arrivals[seqs[0]] // TICKS_PER_REFERENCE
        previous = reference * TICKS_PER_REFERENCE
        deltas: list[int] = []
        reported: list[int] = []
        for seq in seqs[: self._max_received]:
            delta = arrivals[seq] - previous
            if not -0x8000 <= delta <= 0x7FFF or seq - base >= 0xFFFF:
                break  # beyond a large delta or the status count: the next feedback starts here
            deltas.append(delta)
            reported.append(seq)
            previous = arrivals[seq]
        end = reported[-1]
        symbols = [NOT_RECEIVED] * (end - base + 1)
        for seq, delta in zip(reported, deltas, strict=True):
            symbols[seq - base] = SMALL_DELTA if 0 <= delta <= 0xFF else LARGE_DELTA
        body = bytearray(
            struct.pack(
                "!HHI",
                base & 0xFFFF,
                len(symbols),
                ((reference & 0xFFFFFF) << 8) | self._fb_count,
            )
        )
        body += encode_chunks(symbols)
        for delta in deltas:
            body += bytes((delta,)) if 0 <= delta <= 0xFF else struct.pack("!h", delta)
        body += bytes(-len(body) % 4)
        for seq in reported:
            del arrivals[seq]
        self._next = end + 1
        self._fb_count = (self._fb_count + 1) & 0xFF
        header = struct.pack(
            "!BBHII", 0x80 | FMT_TWCC, RTPFB, (len(body) + 12) // 4 - 1, sender_ssrc, media_ssrc
        )
        return header + bytes(body)


def encode_chunks(symbols: list[int]) -> bytes:
    """Status chunks for `symbols`: runs where long or uniform, else the densest vector."""
    out = bytearray()
    i, n = 0, len(symbols)
    while i < n:
        symbol = symbols[i]
        run = 1
        while i + run < n and run < _RUN_MAX and symbols[i + run] == symbol:
            run += 1
        if run >= 14 or i + run == n:
            chunk = (symbol << 13) | run
            i += run
        elif max(symbols[i : i + 14]) <= SMALL_DELTA:
            window = symbols[i : i + 14]
            chunk = 0x8000
            for k, bit in enumerate(window):
                chunk |= bit << (13 - k)
            i += len(window)
        else:
            window = symbols[i : i + 7]
            chunk = 0xC000
            for k, value in enumerate(window):
                chunk |= value << (12 - 2 * k)
            i += len(window)
        out += struct.pack("!H", chunk)
    return bytes(out)
