"""The binary media packet: `[0x01][len][peer id][chunk]`."""

from __future__ import annotations

import pytest

from roomtone.wsframe import frame_payload
from roomtone.wsrelay.framing import PacketError, packet_header, parse_packet, split_frames


def build_packet(peer_id: str, payload: bytes) -> bytes:
    """One packet as the relay frames it (header built once, then the media)."""
    return packet_header(peer_id) + payload


def test_layout_and_round_trip() -> None:
    packet = build_packet("abc", b"\x1a\x45media")
    assert packet == b"\x01\x03abc\x1a\x45media"
    peer_id, payload = parse_packet(packet)
    assert peer_id == "abc" and bytes(payload) == b"\x1a\x45media"


def test_utf8_ids_count_bytes() -> None:
    packet = build_packet("пир", b"x")
    assert packet[1] == len("пир".encode())
    assert parse_packet(packet)[0] == "пир"


@pytest.mark.parametrize("peer_id", ["", "x" * 121, "я" * 61])
def test_id_length_is_1_to_120_bytes(peer_id: str) -> None:
    with pytest.raises(ValueError):
        packet_header(peer_id)


def test_longest_id() -> None:
    assert parse_packet(build_packet("x" * 120, b""))[0] == "x" * 120


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x01",
        b"\x02\x01a",
        b"\x01\x00",
        b"\x01\x79" + b"a" * 121,
        b"\x01\x05abc",
        b"\x01\x01\xff",
    ],
)
def test_malformed_packets(packet: bytes) -> None:
    with pytest.raises(PacketError):
        parse_packet(packet)


def test_split_frames_respects_the_limit_and_keeps_every_byte() -> None:
    header = packet_header("peer")
    data = bytes(range(256)) * 40
    packets = [frame_payload(f) for f in split_frames(header, data, 1000)]
    assert all(len(p) <= 1000 for p in packets)
    assert all(parse_packet(p)[0] == "peer" for p in packets)
    assert b"".join(bytes(parse_packet(p)[1]) for p in packets) == data
    assert len(packets) == -(-len(data) // (1000 - len(header)))
    assert split_frames(header, b"small", 1000) == [b"\x82\x0b" + header + b"small"]
