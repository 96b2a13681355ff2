"""The binary media packet of WS mode: `[0x01][len][peer id, len bytes UTF-8][chunk]`.

Clients learn whose media a binary frame carries from this header alone, so
the relay never sends JSON on the media path. The header of a publisher is
built once; a piece of media is framed once, as a complete WebSocket frame
(wsframe.py), and the same bytes object goes to every subscriber.
"""

from __future__ import annotations

from roomtone.wsframe import binary_frame

VERSION = 1
MAX_ID_BYTES = 120


class PacketError(ValueError):
    """A binary frame that is not a valid version-1 media packet."""


def packet_header(peer_id: str) -> bytes:
    """`[0x01][len][id]` for `peer_id`; raises ValueError for an id of 0 or > 120 bytes."""
    raw = peer_id.encode("utf-8")
    if not 1 <= len(raw) <= MAX_ID_BYTES:
        raise ValueError(f"peer id must be 1-{MAX_ID_BYTES} bytes of UTF-8 (got {len(raw)})")
    return bytes((VERSION, len(raw))) + raw


def split_frames(header: bytes, data: bytes, max_packet: int) -> list[bytes]:
    """`data` as few WebSocket frames as possible, each carrying one packet of at most
    `max_packet` bytes (header included); the only copy `data` goes through here.

    A piece of media can be larger than one WebSocket message may be (a piece
    gathers whole elements across chunks); splitting keeps every byte, whereas
    dropping an oversized packet would corrupt the stream for every subscriber.
    """
    room = max_packet - len(header)
    if room <= 0:
        raise ValueError("max_packet leaves no room for media after the header")
    if len(data) <= room:
        return [binary_frame(header, data)]
    view = memoryview(data)
    return [binary_frame(header, view[i : i + room]) for i in range(0, len(data), room)]


def parse_packet(packet: bytes | bytearray | memoryview) -> tuple[str, memoryview]:
    """(peer id, payload view) of a packet; raises PacketError if it is malformed.

    The receiving side of the format: the relay never parses packets, clients do
    (the tests' clients use this one).
    """
    view = memoryview(packet)
    if len(view) < 2:
        raise PacketError("packet shorter than its header")
    if view[0] != VERSION:
        raise PacketError(f"unknown packet version {view[0]}")
    length = view[1]
    if not 1 <= length <= MAX_ID_BYTES:
        raise PacketError(f"peer id length {length} outside 1-{MAX_ID_BYTES}")
    if len(view) < 2 + length:
        raise PacketError("packet shorter than its peer id")
    try:
        peer_id = bytes(view[2 : 2 + length]).decode("utf-8")
    except UnicodeDecodeError:
        raise PacketError("peer id is not UTF-8") from None
    return peer_id, view[2 + length :]
