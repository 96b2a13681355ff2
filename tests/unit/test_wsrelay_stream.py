"""One publisher's stream: init segment, sync-point history and its bound."""

from __future__ import annotations

import pytest

from roomtone.wsrelay.framing import parse_packet
from roomtone.wsrelay.stream import Batch, PublisherStream, StreamError
from tests import media

MIME = "video/webm;codecs=vp8,opus"


def payload(packets: list[bytes]) -> bytes:
    return b"".join(bytes(parse_packet(p)[1]) for p in packets)


def push(stream: PublisherStream, chunk: bytes) -> list[Batch]:
    return list(stream.push(chunk))


def make(cache_bytes: int = 8 * 1024 * 1024, max_packet: int = 1 << 20) -> PublisherStream:
    return PublisherStream("pub", MIME, max_packet=max_packet, cache_bytes=cache_bytes)


def key(n: int) -> bytes:
    return media.simple_block(1, True, b"K" * n)


def delta(n: int) -> bytes:
    return media.simple_block(1, False, b"d" * n)


def test_history_starts_at_the_latest_sync_cluster() -> None:
    init = media.init_segment((1, 1), (2, 2))
    c1 = media.cluster(key(100), delta(50))
    c2 = media.cluster(delta(60))  # no keyframe: its blocks join c1 (recluster.py)
    audio = media.simple_block(2, True)
    c3 = media.cluster(audio, key(70))  # audio first, then a keyframe
    stream = make()
    assert not stream.ready and not stream.sent_anything
    batches = push(stream, init[:10])
    assert batches == [] and not stream.sent_anything
    push(stream, init[10:])
    assert payload(stream.init_packets) == init and not stream.ready
    batches = push(stream, c1 + c2)
    assert [b.sync for b in batches] == [True, False]
    assert payload(stream.history or []) == c1 + delta(60)
    assert payload(stream.catch_up_packets()) == init + c1 + delta(60)
    # c3 arrives in pieces: the history switches to a new cluster at the keyframe.
    push(stream, c3[:20])  # cluster header and timecode complete, the audio block is not
    assert payload(stream.history or []) == c1 + delta(60)
    batches = push(stream, c3[20:])
    assert [b.sync for b in batches] == [False, True]
    assert payload(batches[0].packets) == audio  # still part of the open cluster
    assert payload(stream.history or []) == media.cluster(key(70))
    # The byte counts that bound the cache agree with the packets kept.
    assert stream.init_bytes + stream.history_bytes == sum(map(len, stream.catch_up_packets()))


def test_live_batches_are_the_history_objects() -> None:
    stream = make()
    push(stream, media.init_segment((1, 1)))
    (batch,) = push(stream, media.cluster(key(10)))
    assert stream.history is not None and stream.history[0] is batch.packets[0]


def test_history_over_the_bound_is_dropped_until_the_next_sync_point() -> None:
    stream = make(cache_bytes=1000)
    push(stream, media.init_segment((1, 1)))
    push(stream, media.cluster(key(400)))
    assert stream.ready
    push(stream, media.cluster(delta(400)))
    assert stream.ready
    push(stream, media.cluster(delta(400)))
    assert not stream.ready and stream.history is None
    push(stream, media.cluster(delta(10)))
    assert not stream.ready
    (batch,) = push(stream, media.cluster(key(10)))
    assert batch.sync and stream.ready
    assert payload(stream.history or []) == media.cluster(key(10))


@pytest.mark.parametrize("cut", [1230, 1250, 2000])
def test_a_sync_cluster_larger_than_the_bound_is_not_usable(cut: int) -> None:
    stream = make(cache_bytes=1000)
    push(stream, media.init_segment((1, 1), (2, 2)))
    big = media.cluster(media.simple_block(2, True, b"a" * 1200), key(10), delta(100))
    batches = push(stream, big[:cut]) + push(stream, big[cut:])
    assert not any(b.sync for b in batches) and not stream.ready


def test_packets_respect_max_packet() -> None:
    stream = make(max_packet=1024)
    init = media.init_segment((1, 1))
    push(stream, init)
    cluster = media.cluster(key(5000))
    batches = push(stream, cluster)
    packets = [p for b in batches for p in b.packets]
    assert all(len(p) <= 1024 for p in packets) and len(packets) > 4
    assert payload(packets) == cluster
    assert payload(stream.catch_up_packets()) == init + cluster


def test_garbage_fails_the_stream_once() -> None:
    stream = make()
    with pytest.raises(StreamError, match="EBML"):
        push(stream, b"not webm at all")
    assert stream.failed and push(stream, media.init_segment((1, 1))) == []


def test_history_grows_only_as_batches_are_taken() -> None:
    """The relay delivers each batch before the next enters the history (no duplicates)."""
    stream = make()
    init = media.init_segment((1, 1))
    one, two = media.cluster(key(10)), media.cluster(delta(10))
    push(stream, init)
    batches = stream.push(one + two)
    first = next(batches)
    assert first.sync and payload(stream.history or []) == one
    next(batches)
    assert payload(stream.history or []) == one + delta(10)


def test_non_webm_passes_through_to_live_recipients_only() -> None:
    stream = PublisherStream("pub", "video/mp4", max_packet=1 << 20, cache_bytes=1 << 20)
    (batch,) = push(stream, b"\x00\x00\x00\x18ftypmp42")
    assert payload(batch.packets) == b"\x00\x00\x00\x18ftypmp42"
    assert not stream.ready and stream.sent_anything
