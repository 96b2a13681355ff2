"""TWCC feedback: hand-made bytes from the draft's examples, then builder → parser round trips."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtone.sfu.bandwidth.twcc import (
    FeedbackBuilder,
    SequenceUnwrapper,
    chunk_symbols,
    encode_chunks,
    parse_feedback,
    parse_packet,
)


def test_the_drafts_chunk_examples() -> None:
    # §3.1.3 example 1: |0|0 0|0 0 0 0 0 1 1 0 1 1 1 0 1| — 221 × "not received"
    assert chunk_symbols(0b0_00_0000011011101) == [0] * 221
    # §3.1.3 example 2: |0|1 1|0 0 0 0 0 0 0 0 1 1 0 0 0| — a run of 24 of symbol 3
    assert chunk_symbols(0b0_11_0000000011000) == [3] * 24
    # §3.1.4 example 1: |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0| — 1 lost, 5 received, 3 lost, 3, 2
    assert chunk_symbols(0b1_0_01111100011100) == [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0]
    # §3.1.4 example 2: |1|1|0 0 1 1 0 1 0 1 0 1 0 0 0 0| — two-bit symbols
    assert chunk_symbols(0b1_1_00110101010000) == [0, 3, 1, 1, 1, 0, 0]


def _fci(base: int, count: int, reference: int, fb_count: int, rest: bytes) -> bytes:
    return struct.pack("!HHI", base, count, (reference << 8) | fb_count) + rest


def test_hand_made_feedback_wraps_and_mixes_small_large_and_negative_deltas() -> None:
    # base 65534, 5 packets: received (+1 ms), lost, received (-2 ms: large), received
    # (+63.75 ms: the biggest small delta), received (+0); reference 16 × 64 ms, count 7.
    chunk = 0b1_1_01_00_10_01_01_00_00  # 2-bit vector, 7 slots, the last 2 unused
    deltas = bytes([4]) + struct.pack("!h", -8) + bytes([255, 0])
    feedback = parse_feedback(_fci(65534, 5, 16, 7, struct.pack("!H", chunk) + deltas + b"\0"))
    assert (feedback.base_seq, feedback.status_count) == (65534, 5)
    assert (feedback.reference_time, feedback.fb_count) == (16, 7)
    seqs = [seq for seq, _ in feedback.packets]
    arrivals = [arrival for _, arrival in feedback.packets]
    assert seqs == [65534, 65535, 0, 1, 2]
    assert arrivals[1] is None
    assert arrivals[0] == pytest.approx(1.025)
    assert arrivals[2] == pytest.approx(1.023)
    assert arrivals[3] == pytest.approx(1.08675)
    assert arrivals[4] == pytest.approx(1.08675)


def test_hand_made_feedback_with_a_run_and_a_one_bit_vector() -> None:
    # 20 received in a run (small deltas of 5 ms), then a one-bit vector: lost, received,
    # then 12 unused slots; the status count (22) ends the list inside the vector.
    run = 0b0_01_0000000010100
    vector = 0b1_0_01000000000000
    deltas = bytes([20] * 21)
    feedback = parse_feedback(_fci(100, 22, 0, 0, struct.pack("!HH", run, vector) + deltas))
    assert len(feedback.packets) == 22
    assert [seq for seq, _ in feedback.packets] == list(range(100, 122))
    assert feedback.packets[20] == (120, None)
    received = [arrival for _, arrival in feedback.packets if arrival is not None]
    assert received == pytest.approx([0.005 * k for k in range(1, 22)])


@pytest.mark.parametrize(
    ("fci", "message"),
    [
        (b"\0" * 7, "shorter than its header"),
        (_fci(0, 3, 0, 0, b""), "status chunks end early"),
        (_fci(0, 2, 0, 0, struct.pack("!H", 0b0_01_0000000000010) + b"\x01"), "deltas end early"),
        (_fci(0, 1, 0, 0, struct.pack("!H", 0b0_10_0000000000001) + b"\x01"), "deltas end early"),
        (_fci(0, 1, 0, 0, struct.pack("!H", 0b0_11_0000000000001)), "reserved"),
    ],
)
def test_malformed_feedback_is_a_value_error(fci: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_feedback(fci)


def test_a_huge_run_is_clipped_to_the_status_count() -> None:
    feedback = parse_feedback(_fci(7, 3, 0, 0, struct.pack("!H", 0b0_00_1111111111111)))
    assert feedback.packets == [(7, None), (8, None), (9, None)]


def test_parse_packet_checks_the_header_and_strips_padding() -> None:
    builder = FeedbackBuilder()
    builder.record(5, 1.0)
    packet = builder.build(0x11111111, 0x22222222)
    assert packet is not None and len(packet) % 4 == 0
    assert packet[0] == 0x8F and packet[1] == 205
    sender, media, feedback = parse_packet(packet)
    assert (sender, media) == (0x11111111, 0x22222222)
    assert feedback.packets == [(5, pytest.approx(1.0))]
    padded = bytearray(packet + b"\0\0\0\x04")
    padded[0] |= 0x20
    padded[2:4] = struct.pack("!H", len(padded) // 4 - 1)
    assert parse_packet(bytes(padded))[2] == feedback
    with pytest.raises(ValueError):
        parse_packet(b"\x81\xcd\0\x04" + packet[4:])  # FMT 1 (NACK)
    with pytest.raises(ValueError):
        parse_packet(packet[:-4])  # length beyond the data
    with pytest.raises(ValueError):
        parse_packet(packet[:8])


def test_unwrapper() -> None:
    unwrap = SequenceUnwrapper()
    first = unwrap.unwrap(65530)
    assert unwrap.unwrap(65535) == first + 5
    assert unwrap.unwrap(3) == first + 9
    assert unwrap.unwrap(65534, advance=False) == first + 4  # older, does not move back
    assert unwrap.unwrap(4) == first + 10


def _roundtrip(builder: FeedbackBuilder) -> list[tuple[int, float | None]]:
    out: list[tuple[int, float | None]] = []
    while (packet := builder.build(1, 2)) is not None:
        out += parse_packet(packet)[2].packets
    return out


def test_builder_reports_losses_in_between_and_wraps() -> None:
    builder = FeedbackBuilder()
    arrivals = {65533: 10.0, 65534: 10.0102, 1: 10.02, 2: 10.019}  # 65535 and 0 lost, 2 reordered
    for seq, at in arrivals.items():
        builder.record(seq, at)
    reported = _roundtrip(builder)
    assert [seq for seq, _ in reported] == [65533, 65534, 65535, 0, 1, 2]
    for seq, at in reported:
        if seq in arrivals:
            assert at == pytest.approx(arrivals[seq], abs=0.00013)
        else:
            assert at is None
    builder.record(5, 10.1)  # 3 and 4 lost since the last feedback
    assert [(seq, at is None) for seq, at in _roundtrip(builder)] == [
        (3, True),
        (4, True),
        (5, False),
    ]


def test_a_late_packet_reopens_the_window_and_earlier_arrivals_become_not_received() -> None:
    builder = FeedbackBuilder()
    for seq in (10, 11, 13):
        builder.record(seq, 1.0 + seq / 1000)
    first = _roundtrip(builder)
    assert [at is None for _, at in first] == [False, False, True, False]
    builder.record(12, 1.05)  # 12 was reported lost: report it again, now received
    builder.record(14, 1.06)
    second = _roundtrip(builder)
    assert [seq for seq, _ in second] == [12, 13, 14]
    assert second[0][1] == pytest.approx(1.05)
    assert second[1][1] is None  # 13 was reported received already
    assert second[2][1] == pytest.approx(1.06)


def test_feedback_count_and_splitting_by_size_and_by_delta_range() -> None:
    builder = FeedbackBuilder(max_received=50)
    for seq in range(120):
        builder.record(seq, 2.0 + seq * 0.001)
    builder.record(120, 20.0)  # more than 8.19 s after the previous arrival
    packets = []
    while (packet := builder.build(1, 2)) is not None:
        packets.append(parse_packet(packet)[2])
    assert [fb.status_count for fb in packets] == [50, 50, 20, 1]
    assert [fb.fb_count for fb in packets] == [0, 1, 2, 3]
    assert packets[-1].packets[0][1] == pytest.approx(20.0)
    assert builder.build(1, 2) is None


def test_chunk_encoding_is_compact() -> None:
    assert len(encode_chunks([1] * 500)) == 2  # one run
    assert len(encode_chunks([1, 0] * 7)) == 2  # one 1-bit vector
    assert len(encode_chunks([2, 1, 0, 1, 2, 1, 0])) == 2  # one 2-bit vector
    mixed = [1] * 30 + [0, 1] * 10 + [2] * 3
    chunks = _chunks(encode_chunks(mixed))
    assert len(chunks) == 4  # run, 1-bit vector, 2-bit vector, run
    assert [s for c in chunks for s in chunk_symbols(c)][: len(mixed)] == mixed


def _chunks(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 0xFFFF),
    steps=st.lists(
        st.tuples(st.integers(1, 4), st.floats(-0.01, 0.09), st.booleans()), min_size=1, max_size=80
    ),
    seed=st.integers(0, 1000),
)
def test_roundtrip_property(start: int, steps: list[tuple[int, float, bool]], seed: int) -> None:
    """Whatever arrives (gaps, reordering, wrap), the reports say exactly that, in order."""
    rng = random.Random(seed)
    builder = FeedbackBuilder(max_received=rng.choice([5, 300]))
    seq, at = start, 100.0
    expected: dict[int, float] = {}
    reported: list[tuple[int, float | None]] = []
    for gap, delta, flush in steps:
        seq = (seq + gap) & 0xFFFF
        at = max(0.0, at + delta)
        expected[seq] = at
        builder.record(seq, at)
        if flush:
            reported += _roundtrip(builder)
    reported += _roundtrip(builder)
    received = {s: a for s, a in reported if a is not None}
    assert set(received) == set(expected)
    for s, a in received.items():
        assert a == pytest.approx(expected[s], abs=0.00013)
