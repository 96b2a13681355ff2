"""The packets one subscriber line sent lately: NACK answers and probe padding.

A ring of the last HISTORY packets, each kept as its header (RTP header,
extensions, VP8 descriptor: built for this line) and its tail (the payload
shared by every line). A NACK is answered with an RTX packet (RFC 4588:
the line's RTX SSRC and payload type, the original sequence number first)
when RTX is negotiated, else with the packet again. A bandwidth probe is
padded with RTX copies of recent packets while the line sends, else with
padding-only RTX packets. Every packet sent again gets a new transport-wide
sequence number and abs-send-time.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roomtone.sfu.outbound import OutboundLine

HISTORY = 512  # packets kept (a power of two)
MASK = HISTORY - 1
PADDING_MAX = 255  # bytes of padding one RTP packet can carry
PAD_BACK = 32  # padding cycles through this many of the newest packets


class History:
    """See the module docstring. OutboundLine.emit fills `heads`/`tails` (hot path)."""

    __slots__ = ("_pad_back", "_rtx_seq", "heads", "newest", "tails")

    def __init__(self) -> None:
        self.heads: list[bytes | None] = [None] * HISTORY
        self.tails: list[bytes | None] = [None] * HISTORY
        self.newest: int | None = None  # the last sequence number sent
        self._pad_back = 0
        self._rtx_seq = random.getrandbits(15)

    def _next_rtx_seq(self) -> int:
        seq = self._rtx_seq
        self._rtx_seq = (seq + 1) & 0xFFFF
        return seq

    def size(self, seq: int) -> int:
        """Bytes packet `seq` takes when resent (RTX: 2 more), 0 if it is gone."""
        head = self.heads[seq & MASK]
        tail = self.tails[seq & MASK]
        if head is None or tail is None or (head[2] << 8 | head[3]) != seq:
            return 0
        return len(head) + len(tail) + 2

    def resend(self, line: OutboundLine, seq: int, now: float) -> int:
        """Send packet `seq` again (RTX when negotiated); bytes sent, 0 if it is gone."""
        head = self.heads[seq & MASK]
        tail = self.tails[seq & MASK]
        negotiated = line.negotiated
        if head is None or tail is None or (head[2] << 8 | head[3]) != seq or negotiated is None:
            return 0
        assert line.pack is not None
        size = line.header_size
        second = head[1]
        timestamp = int.from_bytes(head[4:8], "big")
        tseq = line.host.transport_seq() if line.tcc else -1
        abs24 = int(now * 262144) & 0xFFFFFF
        if line.rtx_pack is not None and negotiated.rtx_pt is not None:
            rtx_second = (second & 0x80) | negotiated.rtx_pt
            hdr = line.rtx_pack(rtx_second, self._next_rtx_seq(), timestamp, abs24, tseq)
            packet = hdr + head[2:4] + head[size:] + tail
        else:
            packet = line.pack(second, seq, timestamp, abs24, tseq) + head[size:] + tail
        line.host.send_packet(packet, tseq, now)
        return len(packet)

    def pad(self, line: OutboundLine, size: int, now: float) -> int:
        """About `size` bytes of probe padding on the line's RTX stream; bytes sent."""
        negotiated = line.negotiated
        if line.rtx_pack is None or negotiated is None or negotiated.rtx_pt is None:
            return 0
        if self.newest is not None and line.stream is not None and size > PADDING_MAX:
            seq = (self.newest - self._pad_back) & 0xFFFF
            self._pad_back = (self._pad_back + 1) % PAD_BACK
            sent = self.resend(line, seq, now)
            if sent:
                return sent
        padding = max(1, min(size, PADDING_MAX))
        tseq = line.host.transport_seq() if line.tcc else -1
        abs24 = int(now * 262144) & 0xFFFFFF
        timestamp = line.last_ts or 0
        hdr = line.rtx_pack(negotiated.rtx_pt, self._next_rtx_seq(), timestamp, abs24, tseq)
        packet = bytes((hdr[0] | 0x20,)) + hdr[1:] + bytes(padding - 1) + bytes((padding,))
        line.host.send_packet(packet, tseq, now)
        return len(packet)
