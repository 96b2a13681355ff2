"""The RTP fixed header and header extensions (RFC 3550 §5.1, RFC 8285, RFC 4588).

The packet path reads headers inline (struct.unpack_from of the fixed part);
these functions are the shared, tested pieces around it: where the payload
starts, the extension block's values, and RTX unwrapping.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

FIXED = struct.Struct("!BBHII")  # V P X CC, M PT, sequence number, timestamp, SSRC
EXTENSION_HEADER = struct.Struct("!HH")  # profile, length in 32-bit words
ONE_BYTE_PROFILE = 0xBEDE
TWO_BYTE_PROFILE_MASK = 0xFFF0
TWO_BYTE_PROFILE = 0x1000


# layout() result: (payload, end, extension profile, extension start, extension end):
# the first payload byte, the byte after the payload (padding excluded), and the
# extension block's profile (0: none) and value bytes.
Layout = tuple[int, int, int, int, int]


def layout(data: bytes) -> Layout | None:
    """Where the parts of an RTP packet are, or None if it is not well-formed RTP."""
    size = len(data)
    if size < 12 or data[0] & 0xC0 != 0x80:
        return None
    first = data[0]
    offset = 12 + (first & 0x0F) * 4
    profile = ext_start = ext_end = 0
    if first & 0x10:
        if offset + 4 > size:
            return None
        profile, words = EXTENSION_HEADER.unpack_from(data, offset)
        ext_start = offset + 4
        ext_end = offset = ext_start + words * 4
    end = size
    if first & 0x20:
        end -= data[-1]
    if offset > end or end > size:
        return None
    return offset, end, profile, ext_start, ext_end


def extension_values(data: bytes, profile: int, start: int, end: int) -> dict[int, bytes]:
    """Every element of an extension block: id → value (one- and two-byte forms)."""
    values: dict[int, bytes] = {}
    if profile == ONE_BYTE_PROFILE:
        pos = start
        while pos < end:
            byte = data[pos]
            if byte == 0:  # padding
                pos += 1
                continue
            ident, length = byte >> 4, (byte & 0x0F) + 1
            if ident == 15:
                break  # reserved: stop parsing (RFC 8285 §4.2)
            values[ident] = data[pos + 1 : pos + 1 + length]
            pos += 1 + length
    elif profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE:
        pos = start
        while pos + 1 < end:
            ident = data[pos]
            if ident == 0:
                pos += 1
                continue
            length = data[pos + 1]
            values[ident] = data[pos + 2 : pos + 2 + length]
            pos += 2 + length
    return values


def find_extension(data: bytes, profile: int, start: int, end: int, wanted: int) -> int:
    """Offset of the value of extension `wanted` in a one-byte block, or -1.

    The per-packet lookup (transport-wide sequence number, abs-send-time):
    no allocation. Two-byte blocks go through extension_values.
    """
    if profile != ONE_BYTE_PROFILE:
        if profile & TWO_BYTE_PROFILE_MASK != TWO_BYTE_PROFILE:
            return -1
        pos = start
        while pos + 1 < end:
            ident = data[pos]
            if ident == 0:
                pos += 1
                continue
            if ident == wanted:
                return pos + 2
            pos += 2 + data[pos + 1]
        return -1
    pos = start
    while pos < end:
        byte = data[pos]
        if byte == 0:
            pos += 1
            continue
        ident = byte >> 4
        if ident == wanted:
            return pos + 1
        if ident == 15:
            return -1
        pos += 2 + (byte & 0x0F)
    return -1


def one_byte_block(elements: list[tuple[int, bytes]]) -> bytes:
    """An extension block (profile 0xBEDE, 4-byte header included), padded to 32 bits."""
    body = b"".join(bytes(((ident << 4) | (len(value) - 1),)) + value for ident, value in elements)
    body += b"\x00" * (-len(body) % 4)
    return EXTENSION_HEADER.pack(ONE_BYTE_PROFILE, len(body) // 4) + body


def unwrap_rtx(data: bytes, payload: int, end: int, media_pt: int, media_ssrc: int) -> bytes:
    """The original packet inside an RTX packet (RFC 4588 §4): OSN from the payload.

    The header (extensions included) is kept; payload type, sequence number
    and SSRC become the original's; padding is dropped.
    """
    first, second, _seq, timestamp, _ssrc = FIXED.unpack_from(data)
    original = (data[payload] << 8) | data[payload + 1]
    header = FIXED.pack(first & 0xDF, (second & 0x80) | media_pt, original, timestamp, media_ssrc)
    return header + data[12:payload] + data[payload + 2 : end]


# --- writing: the header of one outgoing stream ---------------------------------------------

HeaderPacker = Callable[[int, int, int, int, int], bytes]


def header_writer(
    ssrc: int, *, mid_id: int = 0, mid: str = "", abs_id: int = 0, tcc_id: int = 0
) -> tuple[HeaderPacker, int]:
    """A packer for this stream's RTP header (fixed part and extension block), and its size.

    `pack(second, seq, timestamp, abs24, tseq)`: `second` is the M bit and
    payload type byte; `abs24` the 24-bit abs-send-time, `tseq` the
    transport-wide sequence number (each ignored when its id is 0). The
    extension block is laid out once (transport-cc, abs-send-time, mid),
    so each packet costs one struct.pack.
    """
    static = b""
    if mid_id and mid:
        value = mid.encode()[:16]
        static = bytes(((mid_id << 4) | (len(value) - 1),)) + value
    dynamic = (3 if tcc_id else 0) + (4 if abs_id else 0)
    static += b"\x00" * (-(dynamic + len(static)) % 4)
    words = (dynamic + len(static)) // 4
    if words == 0:
        plain = FIXED

        def pack_plain(second: int, seq: int, ts: int, abs24: int, tseq: int) -> bytes:
            return plain.pack(0x80, second, seq, ts, ssrc)

        return pack_plain, 12
    fmt = "!BBHIIHH" + ("BH" if tcc_id else "") + ("BBH" if abs_id else "") + f"{len(static)}s"
    packer = struct.Struct(fmt).pack
    tcc_byte, abs_byte = (tcc_id << 4) | 1, (abs_id << 4) | 2
    size = 16 + words * 4
    if tcc_id and abs_id:

        def pack_both(second: int, seq: int, ts: int, abs24: int, tseq: int) -> bytes:
            return packer(
                0x90, second, seq, ts, ssrc, ONE_BYTE_PROFILE, words,
                tcc_byte, tseq & 0xFFFF, abs_byte, abs24 >> 16 & 0xFF, abs24 & 0xFFFF, static,
            )  # fmt: skip

        return pack_both, size
    if abs_id:

        def pack_abs(second: int, seq: int, ts: int, abs24: int, tseq: int) -> bytes:
            return packer(
                0x90, second, seq, ts, ssrc, ONE_BYTE_PROFILE, words,
                abs_byte, abs24 >> 16 & 0xFF, abs24 & 0xFFFF, static,
            )  # fmt: skip

        return pack_abs, size
    if tcc_id:

        def pack_tcc(second: int, seq: int, ts: int, abs24: int, tseq: int) -> bytes:
            return packer(
                0x90,
                second,
                seq,
                ts,
                ssrc,
                ONE_BYTE_PROFILE,
                words,
                tcc_byte,
                tseq & 0xFFFF,
                static,
            )

        return pack_tcc, size

    def pack_static(second: int, seq: int, ts: int, abs24: int, tseq: int) -> bytes:
        return packer(0x90, second, seq, ts, ssrc, ONE_BYTE_PROFILE, words, static)

    return pack_static, size
