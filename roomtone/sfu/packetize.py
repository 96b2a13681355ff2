"""RTP packetization of pre-encoded frames, for the aiortc clients (tests, load test, bench).

Their RTCRtpSenders get these packers instead of encoders (see
aiortc_adapter.install_packer), so replaying a pre-encoded clip never opens a
codec. The server forwards packets and never packetizes (packets.py).
"""

from __future__ import annotations

import random
from typing import NamedTuple

RTP_PAYLOAD_MAX = 1300  # bytes per RTP payload, as aiortc's VP8 encoder
_VP8_DESCRIPTOR_SIZE = 4


class OutFrame(NamedTuple):
    """One encoded frame as a sender's track hands it over: payload and RTP timestamp."""

    data: bytes
    pts: int  # in the codec's RTP clock (90 kHz video, 48 kHz Opus)


class _ForwardOnly:
    def encode(self, frame: object, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise RuntimeError("the SFU forwards encoded frames; it never encodes")


class Vp8Packer(_ForwardOnly):
    """RFC 7741 payloads: a 4-byte descriptor (X, S, I with a 15-bit PictureID) per packet."""

    def __init__(self) -> None:
        self.picture_id = random.getrandbits(15)

    def pack(self, frame: OutFrame) -> tuple[list[bytes], int]:
        data = frame.data
        pid = self.picture_id
        self.picture_id = (pid + 1) & 0x7FFF
        tail = bytes((0x80 | pid >> 8, pid & 0xFF))
        first = b"\x90\x80" + tail  # X=1, S=1, PID=0; I=1; M=1 + PictureID
        more = b"\x80\x80" + tail  # continuation: S=0
        step = RTP_PAYLOAD_MAX - _VP8_DESCRIPTOR_SIZE
        if len(data) <= step:
            return [first + data], frame.pts
        payloads = [first + data[:step]]
        for offset in range(step, len(data), step):
            payloads.append(more + data[offset : offset + step])
        return payloads, frame.pts


class OpusPacker(_ForwardOnly):
    """One Opus frame is one RTP payload (RFC 7587)."""

    def pack(self, frame: OutFrame) -> tuple[list[bytes], int]:
        return [frame.data], frame.pts


def packer_for(kind: str) -> Vp8Packer | OpusPacker:
    return Vp8Packer() if kind == "video" else OpusPacker()
