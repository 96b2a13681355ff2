"""RTCP (RFC 3550 §6, RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb): parse and build.

`parse` turns a compound packet into the items the SFU acts on (sender and
receiver reports, NACK, PLI, FIR, REMB, transport-wide feedback, BYE) and
skips everything else (SDES, XR, APP, …). RTCP is a few packets a second per
stream, so plain NamedTuples are fine here.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

SR, RR, SDES, BYE, RTPFB, PSFB = 200, 201, 202, 203, 205, 206
FMT_NACK, FMT_TWCC = 1, 15  # RTPFB
FMT_PLI, FMT_FIR, FMT_APP = 1, 4, 15  # PSFB

_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!IQIII")  # SSRC, NTP, RTP timestamp, packets, octets
_BLOCK = struct.Struct("!IIIIII")  # SSRC, fraction|lost, highest, jitter, LSR, DLSR
_FEEDBACK = struct.Struct("!II")  # sender SSRC, media SSRC


class ReportBlock(NamedTuple):
    ssrc: int
    fraction_lost: int  # of 256
    lost: int  # cumulative (24-bit signed)
    highest: int  # extended highest sequence number
    jitter: int
    lsr: int
    dlsr: int


class SenderReport(NamedTuple):
    ssrc: int
    ntp: int  # 64-bit NTP timestamp
    rtp: int
    packets: int
    octets: int
    reports: list[ReportBlock]


class ReceiverReport(NamedTuple):
    ssrc: int
    reports: list[ReportBlock]


class Nack(NamedTuple):
    sender: int
    media: int
    lost: list[int]


class TransportFeedback(NamedTuple):
    sender: int
    media: int
    fci: bytes


class Pli(NamedTuple):
    sender: int
    media: int


class Fir(NamedTuple):
    sender: int
    media: list[int]  # the SSRCs a keyframe is asked of


class Remb(NamedTuple):
    sender: int
    bitrate: int
    ssrcs: list[int]


class Bye(NamedTuple):
    ssrcs: list[int]


Item = SenderReport | ReceiverReport | Nack | TransportFeedback | Pli | Fir | Remb | Bye


def _blocks(data: bytes, pos: int, count: int, end: int) -> list[ReportBlock]:
    blocks = []
    for _ in range(count):
        if pos + 24 > end:
            break
        ssrc, lost_word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, pos)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        blocks.append(ReportBlock(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr))
        pos += 24
    return blocks


def _nack_lost(data: bytes, pos: int, end: int) -> list[int]:
    lost = []
    while pos + 4 <= end:
        pid, blp = struct.unpack_from("!HH", data, pos)
        lost.append(pid)
        for bit in range(16):
            if blp >> bit & 1:
                lost.append((pid + bit + 1) & 0xFFFF)
        pos += 4
    return lost


def _remb(sender: int, data: bytes, pos: int, end: int) -> Remb | None:
    if pos + 8 > end or data[pos : pos + 4] != b"REMB":
        return None
    count, exponent_mantissa = data[pos + 4], int.from_bytes(data[pos + 5 : pos + 8], "big")
    bitrate = (exponent_mantissa & 0x3FFFF) << (exponent_mantissa >> 18)
    ssrcs = [
        int.from_bytes(data[pos + 8 + 4 * i : pos + 12 + 4 * i], "big")
        for i in range(count)
        if pos + 12 + 4 * i <= end
    ]
    return Remb(sender, bitrate, ssrcs)


def parse(data: bytes) -> list[Item]:
    """The items of a compound RTCP packet; stops at the first malformed packet."""
    items: list[Item] = []
    pos = 0
    size = len(data)
    while pos + 4 <= size:
        first, packet_type, words = _HEADER.unpack_from(data, pos)
        end = pos + 4 + words * 4
        if first >> 6 != 2 or end > size:
            break
        count = first & 0x1F
        body = pos + 4
        if packet_type == SR and body + 24 <= end:
            ssrc, ntp, rtp, packets, octets = _SENDER_INFO.unpack_from(data, body)
            items.append(
                SenderReport(ssrc, ntp, rtp, packets, octets, _blocks(data, body + 24, count, end))
            )
        elif packet_type == RR and body + 4 <= end:
            ssrc = int.from_bytes(data[body : body + 4], "big")
            items.append(ReceiverReport(ssrc, _blocks(data, body + 4, count, end)))
        elif packet_type in (RTPFB, PSFB) and body + 8 <= end:
            sender, media = _FEEDBACK.unpack_from(data, body)
            fci = body + 8
            if packet_type == RTPFB and count == FMT_NACK:
                items.append(Nack(sender, media, _nack_lost(data, fci, end)))
            elif packet_type == RTPFB and count == FMT_TWCC:
                items.append(TransportFeedback(sender, media, data[fci:end]))
            elif packet_type == PSFB and count == FMT_PLI:
                items.append(Pli(sender, media))
            elif packet_type == PSFB and count == FMT_FIR:
                targets = [int.from_bytes(data[p : p + 4], "big") for p in range(fci, end - 7, 8)]
                items.append(Fir(sender, targets))
            elif packet_type == PSFB and count == FMT_APP:
                remb = _remb(sender, data, fci, end)
                if remb is not None:
                    items.append(remb)
        elif packet_type == BYE:
            items.append(
                Bye(
                    [int.from_bytes(data[p : p + 4], "big") for p in range(body, end - 3, 4)][
                        :count
                    ]
                )
            )
        pos = end
    return items


# --- building ------------------------------------------------------------------------------


def _packet(first_low: int, packet_type: int, body: bytes) -> bytes:
    return _HEADER.pack(0x80 | first_low, packet_type, len(body) // 4) + body


def _block_bytes(block: ReportBlock) -> bytes:
    lost = max(-0x800000, min(0x7FFFFF, block.lost)) & 0xFFFFFF
    return _BLOCK.pack(
        block.ssrc,
        (block.fraction_lost & 0xFF) << 24 | lost,
        block.highest & 0xFFFFFFFF,
        block.jitter & 0xFFFFFFFF,
        block.lsr & 0xFFFFFFFF,
        block.dlsr & 0xFFFFFFFF,
    )


def receiver_report(ssrc: int, blocks: list[ReportBlock]) -> bytes:
    """RR packets (31 report blocks at most each)."""
    out = []
    for start in range(0, max(len(blocks), 1), 31):
        chunk = blocks[start : start + 31]
        body = ssrc.to_bytes(4, "big") + b"".join(_block_bytes(b) for b in chunk)
        out.append(_packet(len(chunk), RR, body))
    return b"".join(out)


def sender_report(ssrc: int, ntp: int, rtp: int, packets: int, octets: int) -> bytes:
    """An SR without report blocks (the SFU's receive reports go in RRs)."""
    body = _SENDER_INFO.pack(
        ssrc, ntp & 0xFFFFFFFFFFFFFFFF, rtp & 0xFFFFFFFF, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF
    )
    return _packet(0, SR, body)


def sdes_cname(ssrc: int, cname: str) -> bytes:
    text = cname.encode()[:255]
    chunk = ssrc.to_bytes(4, "big") + bytes((1, len(text))) + text + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    return _packet(1, SDES, chunk)


def nack(sender: int, media: int, lost: list[int]) -> bytes:
    """Generic NACK for `lost` sequence numbers (sorted or not)."""
    fci = bytearray()
    pending = sorted(set(lost))
    while pending:
        pid = pending.pop(0)
        blp = 0
        while pending and (pending[0] - pid) & 0xFFFF <= 16:
            blp |= 1 << (((pending.pop(0) - pid) & 0xFFFF) - 1)
        fci += struct.pack("!HH", pid, blp)
    return _packet(FMT_NACK, RTPFB, _FEEDBACK.pack(sender, media) + bytes(fci))


def pli(sender: int, media: int) -> bytes:
    return _packet(FMT_PLI, PSFB, _FEEDBACK.pack(sender, media))


def fir(sender: int, media: int, sequence: int) -> bytes:
    fci = media.to_bytes(4, "big") + bytes((sequence & 0xFF, 0, 0, 0))
    return _packet(FMT_FIR, PSFB, _FEEDBACK.pack(sender, 0) + fci)


def remb(sender: int, bitrate: int, ssrcs: list[int]) -> bytes:
    exponent = 0
    mantissa = max(0, int(bitrate))
    while mantissa > 0x3FFFF:
        mantissa >>= 1
        exponent += 1
    fci = b"REMB" + bytes((len(ssrcs),)) + ((exponent << 18) | mantissa).to_bytes(3, "big")
    fci += b"".join(s.to_bytes(4, "big") for s in ssrcs)
    return _packet(FMT_APP, PSFB, _FEEDBACK.pack(sender, 0) + fci)
