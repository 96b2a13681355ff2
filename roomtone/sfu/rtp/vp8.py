"""The VP8 RTP payload descriptor (RFC 7741 §4.2) and the VP8 keyframe test.

```
 X R N S R PID     X: extended control bits follow; S: start of a partition
 I L T K RSV       (if X) I: PictureID, L: TL0PICIDX, T: TID, K: KEYIDX
 M PictureID       (if I) M=1: 15-bit PictureID, else 7-bit
 TL0PICIDX         (if L)
 TID Y KEYIDX      (if T or K)
```

A keyframe's first packet has S=1, PID=0 and a VP8 payload header whose P
bit (bit 0 of the first byte) is 0 (RFC 6386 §9.1).
"""

from __future__ import annotations

# parse() result: (size, start, keyframe, picture_id, picture_id_bits, tl0); a tuple
# because it is made once per forwarded video packet.
SIZE, START, KEYFRAME, PICTURE_ID, PICTURE_ID_BITS, TL0 = range(6)
Descriptor = tuple[int, bool, bool, int, int, int]


def parse(data: bytes, offset: int, end: int) -> Descriptor | None:
    """The descriptor at data[offset:end], or None if it is truncated.

    size: bytes before the VP8 payload; start: first packet of a frame (S=1,
    PID=0); keyframe: …of a keyframe; picture_id / tl0: -1 when absent;
    picture_id_bits: 0, 7 or 15.
    """
    if offset >= end:
        return None
    first = data[offset]
    picture_id = tl0 = -1
    bits = 0
    pos = offset + 1
    if first & 0x80:
        if pos >= end:
            return None
        ext = data[pos]
        pos += 1
        if ext & 0x80:  # I
            if pos >= end:
                return None
            if data[pos] & 0x80:  # M
                if pos + 1 >= end:
                    return None
                picture_id = ((data[pos] & 0x7F) << 8) | data[pos + 1]
                bits = 15
                pos += 2
            else:
                picture_id = data[pos] & 0x7F
                bits = 7
                pos += 1
        if ext & 0x40:  # L
            if pos >= end:
                return None
            tl0 = data[pos]
            pos += 1
        if ext & 0x30:  # T or K
            pos += 1
        if pos > end:
            return None
    start = first & 0x17 == 0x10
    keyframe = start and pos < end and not data[pos] & 0x01
    return pos - offset, start, keyframe, picture_id, bits, tl0


def rewrite(data: bytes, offset: int, desc: Descriptor, picture_id: int, tl0: int) -> bytes:
    """The descriptor bytes with another PictureID and TL0PICIDX (same size and layout)."""
    out = bytearray(data[offset : offset + desc[SIZE]])
    pos = 2
    bits = desc[PICTURE_ID_BITS]
    if bits == 15:
        out[2] = 0x80 | (picture_id >> 8 & 0x7F)
        out[3] = picture_id & 0xFF
        pos = 4
    elif bits == 7:
        out[2] = picture_id & 0x7F
        pos = 3
    if desc[TL0] >= 0:
        out[pos] = tl0 & 0xFF
    return bytes(out)
