"""The incremental WebM parser: byte-exact element-aligned pieces, tags, and clean failures."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtone.wsrelay.webm import Piece, WebmError, WebmParser
from tests import media

VARIANTS = ["ffmpeg", "mediarecorder"]


def variant(name: str) -> tuple[bytes, media.Layout]:
    data = media.sample_webm()
    if name == "ffmpeg":
        return data, media.layout(data)
    return media.mediarecorder_like(data), media.unknown_size_layout(data)


def feed_all(parser: WebmParser, chunks: list[bytes]) -> list[Piece]:
    pieces: list[Piece] = []
    for chunk in chunks:
        pieces += parser.feed(chunk)
    return pieces


def summarize(pieces: list[Piece]) -> tuple[int | None, list[int], list[int]]:
    """(offset where the init segment ended, cluster offsets, sync cluster offsets)."""
    offset, init_end, starts, syncs = 0, None, [], []
    for piece in pieces:
        if piece.init_complete:
            assert init_end is None, "init_complete set twice"
            init_end = offset
        if piece.init:
            assert init_end is None, "init piece after the init segment"
        if piece.cluster_start:
            starts.append(offset)
        if piece.sync:
            assert starts, "sync outside a cluster"
            syncs.append(starts[-1])
        offset += len(piece.data)
    return init_end, starts, syncs


def check(pieces: list[Piece], data: bytes, expected: media.Layout) -> None:
    assert b"".join(p.data for p in pieces) == data
    init_end, starts, syncs = summarize(pieces)
    assert init_end == expected.init_end
    assert starts == [offset for offset, _ in expected.clusters]
    assert syncs == [offset for offset, sync in expected.clusters if sync]


def test_sample_has_what_the_tests_need() -> None:
    lay = media.layout(media.sample_webm())
    syncs = [sync for _, sync in lay.clusters]
    assert lay.video_tracks == {1}
    assert syncs.count(True) >= 3 and syncs.count(False) >= 3, syncs


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("high", [1, 7, 300, 5000, 70000])
def test_random_chunking_is_byte_exact_and_tagged(name: str, high: int) -> None:
    data, expected = variant(name)
    rng = random.Random(high)
    parser = WebmParser()
    pieces = feed_all(parser, media.random_chunks(data, rng, 1, high))
    check(pieces, data, expected)
    assert parser.video_tracks == {1}
    assert parser.init_complete
    assert parser.buffered == 0


@pytest.mark.parametrize("name", VARIANTS)
def test_whole_file_in_one_chunk(name: str) -> None:
    data, expected = variant(name)
    pieces = WebmParser().feed(data)
    check(pieces, data, expected)
    # One piece for the init segment, one per cluster (trailing Cues join the last one).
    assert len(pieces) == 1 + len(expected.clusters)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=340_000), max_size=60))
def test_any_cut_points(cuts: list[int]) -> None:
    data, expected = variant("mediarecorder")
    points = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    check(feed_all(WebmParser(), chunks), data, expected)


def test_pieces_hold_only_whole_elements() -> None:
    """A chunk that ends inside an element yields nothing for it until it completes."""
    init = media.init_segment((1, 1))
    block = media.simple_block(1, True, b"x" * 100)
    stream = init + media.cluster(block)
    parser = WebmParser()
    cut = len(stream) - 50  # inside the SimpleBlock
    first = parser.feed(stream[:cut])
    assert b"".join(p.data for p in first) == stream[: len(stream) - len(block)]
    assert parser.buffered == len(block) - 50
    second = parser.feed(stream[cut:])
    assert b"".join(p.data for p in second) == block
    assert second[0].sync and not second[0].cluster_start


def test_cut_inside_element_id_and_size() -> None:
    stream = media.init_segment((1, 1)) + media.cluster(media.simple_block(1, True))
    cluster_at = stream.index(media.CLUSTER_ID.to_bytes(4, "big"))
    for cut in (cluster_at + 1, cluster_at + 2, cluster_at + 5, cluster_at + 11):
        parser = WebmParser()
        pieces = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert b"".join(p.data for p in pieces) == stream
        assert summarize(pieces)[1] == [cluster_at]


def test_audio_only_every_cluster_is_a_sync_point() -> None:
    init = media.init_segment((1, 2))
    clusters = [media.cluster(media.simple_block(1, False), timecode=i) for i in range(3)]
    pieces = WebmParser().feed(init + b"".join(clusters))
    assert [p.sync for p in pieces] == [False, True, True, True]
    assert [p.cluster_start for p in pieces] == [False, True, True, True]


def test_sync_is_decided_by_the_first_video_block() -> None:
    init = media.init_segment((1, 1), (2, 2))
    audio_first_then_key = media.cluster(
        media.simple_block(2, True), media.simple_block(1, True), media.simple_block(1, False)
    )
    delta_then_key = media.cluster(media.simple_block(1, False), media.simple_block(1, True))
    group_key = media.cluster(
        media.block_group(2, reference=True), media.block_group(1, reference=False)
    )
    group_delta = media.cluster(media.block_group(1, reference=True))
    audio_only = media.cluster(media.simple_block(2, True))
    stream = init + audio_first_then_key + delta_then_key + group_key + group_delta + audio_only
    pieces = WebmParser().feed(stream)
    assert [p.sync for p in pieces] == [False, True, False, True, False, False]


def test_known_size_segment_and_clusters() -> None:
    body = media.element(0x1549A966, b"") + media.tracks_element((1, 1))
    clusters = [media.cluster(media.simple_block(1, k), unknown=False) for k in (True, False)]
    segment = media.element(media.SEGMENT_ID, body + b"".join(clusters))
    stream = media.ebml_header() + segment
    parser = WebmParser()
    pieces = feed_all(parser, [stream[i : i + 3] for i in range(0, len(stream), 3)])
    assert b"".join(p.data for p in pieces) == stream
    first_cluster = stream.index(media.CLUSTER_ID.to_bytes(4, "big"))
    second_cluster = first_cluster + len(clusters[0])
    assert summarize(pieces)[1:] == ([first_cluster, second_cluster], [first_cluster])
    with pytest.raises(WebmError, match="after the end of the Segment"):
        parser.feed(media.ebml_header())


def test_level1_elements_end_unknown_size_clusters_and_pass_through() -> None:
    init = media.init_segment((1, 1))
    cues = media.element(0x1C53BB6B, b"\x00" * 10)
    void = media.element(0xEC, b"\x00" * 5)
    first = media.cluster(media.simple_block(1, True), void)
    second = media.cluster(media.simple_block(1, False))
    stream = init + first + cues + second
    pieces = WebmParser().feed(stream)
    assert b"".join(p.data for p in pieces) == stream
    assert [len(p.data) for p in pieces] == [len(init), len(first) + len(cues), len(second)]
    assert [p.sync for p in pieces] == [False, True, False]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "no EBML header"),
        (b"\x00\x00\x00\x00", "first byte 0"),
        (bytes.fromhex("0800000001") + b"\x81\x00", "ID of 5 bytes"),
        (media.ebml_header("mp4"), "DocType"),
        (media.ebml_header() + media.element(0x1549A966, b"x"), "expected a Segment"),
        (media.init_segment((1, 1)) + media.ebml_header(), "unexpected element"),
        (media.init_segment((1, 1)) + bytes.fromhex("FF81"), "reserved element ID"),
        (media.init_segment((1, 1)) + media.element(0xA3, b"", unknown=True), "unknown size"),
        (media.init_segment((1, 1)) + media.cluster(media.element(0xA3, b"\x81")), "too short"),
    ],
)
def test_garbage_raises_a_clear_error(data: bytes, message: str) -> None:
    parser = WebmParser()
    with pytest.raises(WebmError, match=message):
        parser.feed(data)
    # The parser stays failed and holds nothing.
    assert parser.buffered == 0
    with pytest.raises(WebmError):
        parser.feed(b"\x1a\x45\xdf\xa3")


def test_huge_declared_size_fails_before_buffering() -> None:
    parser = WebmParser(max_element_bytes=64 * 1024)
    stream = media.init_segment((1, 1)) + media.cluster()
    parser.feed(stream)
    header = bytes([0xA3]) + media.encode_size(10_000_000)
    with pytest.raises(WebmError, match="exceeds"):
        parser.feed(header + b"\x81")


def test_memory_stays_bounded_on_random_garbage() -> None:
    rng = random.Random(7)
    for _ in range(200):
        parser = WebmParser(max_element_bytes=64 * 1024)
        prefix = media.init_segment((1, 1)) + media.cluster() if rng.random() < 0.5 else b""
        try:
            parser.feed(prefix)
            for _ in range(64):
                parser.feed(rng.randbytes(rng.randint(1, 2048)))
                assert parser.buffered <= 64 * 1024 + 16
        except WebmError:
            continue
