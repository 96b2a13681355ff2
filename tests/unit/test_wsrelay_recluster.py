"""Re-clustering (roomtone/wsrelay/recluster.py), checked with tests/media.py's naive reader."""

from __future__ import annotations

import random

from roomtone.wsrelay.recluster import Reclusterer
from roomtone.wsrelay.webm import WebmParser
from tests import media

VIDEO, AUDIO = 1, 2
INIT = media.init_segment((VIDEO, 1), (AUDIO, 2))


def block(track: int, keyframe: bool, relative: int, frame: bytes = b"x" * 20) -> bytes:
    body = (
        media.encode_size(track)
        + relative.to_bytes(2, "big", signed=True)
        + bytes([0x80 if keyframe else 0])
        + frame
    )
    return media.element(media.SIMPLEBLOCK_ID, body)


def recorder_stream(cluster_ms: int, keyframe_ms: int, seconds: float, fps: int = 15) -> bytes:
    """A recorder-like stream: audio every 20 ms, video at `fps`, a cluster every
    `cluster_ms`, keyframes every `keyframe_ms` wherever they fall (audio first)."""
    events = [(t, AUDIO) for t in range(0, int(seconds * 1000), 20)]
    events += [(int(i * 1000 / fps), VIDEO) for i in range(int(seconds * fps))]
    events.sort(key=lambda e: (e[0], e[1] == VIDEO))
    out, cluster_start, children = [INIT], None, []
    next_key = 0
    for n, (t, track) in enumerate(events):
        if cluster_start is None or t - cluster_start >= cluster_ms:
            if children:
                out.append(media.cluster(*children, timecode=cluster_start))
            cluster_start, children = t, []
        key = track == AUDIO or t >= next_key
        if track == VIDEO and key:
            next_key = t + keyframe_ms
        children.append(block(track, key, t - cluster_start, bytes([n % 256]) * 30))
    out.append(media.cluster(*children, timecode=cluster_start))
    return b"".join(out)


def relay(data: bytes, chunks: list[bytes] | None = None) -> bytes:
    parser = WebmParser()
    recluster = Reclusterer(parser)
    return b"".join(
        piece.data for chunk in (chunks or [data]) for piece in recluster.feed(parser.feed(chunk))
    )


def blocks(data: bytes) -> list[media.Block]:
    _, clusters = media.unknown_size_clusters(data)
    return [b for _, cluster in clusters for b in cluster]


def first_video(cluster: list[media.Block]) -> media.Block | None:
    return next((b for b in cluster if b.track == VIDEO), None)


def test_chromium_like_stream_gets_a_cluster_per_keyframe() -> None:
    """Chromium: a cluster every 200 ms, a keyframe every second, often mid-cluster."""
    raw = recorder_stream(cluster_ms=210, keyframe_ms=1000, seconds=5)
    raw_clusters = media.unknown_size_clusters(raw)[1]
    keyframes = [b.time for b in blocks(raw) if b.track == VIDEO and b.keyframe]
    assert len(keyframes) == 5
    assert sum(1 for _, c in raw_clusters if first_video(c) and first_video(c).keyframe) < 5
    out = relay(raw)
    assert out.startswith(INIT)
    assert blocks(out) == blocks(raw)  # same frames, same absolute times, same flags
    clusters = media.unknown_size_clusters(out)[1]
    assert [first_video(c).time for _, c in clusters] == keyframes
    for index, (_, cluster) in enumerate(clusters):
        assert first_video(cluster).keyframe
        if index:  # the stream's first cluster may open with the audio just before
            assert cluster[0].track == VIDEO
        assert sum(b.keyframe for b in cluster if b.track == VIDEO) == 1


def test_firefox_like_stream_keeps_one_cluster_per_keyframe_interval() -> None:
    """Firefox: a cluster every second, a keyframe every ~7.5 s."""
    raw = recorder_stream(cluster_ms=1000, keyframe_ms=7500, seconds=16)
    out = relay(raw)
    assert blocks(out) == blocks(raw)
    clusters = media.unknown_size_clusters(out)[1]
    keyframes = [b.time for b in blocks(raw) if b.track == VIDEO and b.keyframe]
    assert len(keyframes) == 3
    assert [first_video(c).time for _, c in clusters] == keyframes
    assert all(first_video(c).keyframe for _, c in clusters)


def test_output_is_independent_of_chunking_and_stable() -> None:
    raw = recorder_stream(cluster_ms=200, keyframe_ms=1000, seconds=3)
    out = relay(raw)
    rng = random.Random(5)
    assert relay(raw, media.random_chunks(raw, rng, 1, 700)) == out
    assert relay(out) == out  # already in shape: passed through unchanged


def test_audio_before_the_first_keyframe_shares_its_cluster() -> None:
    raw = INIT + media.cluster(block(AUDIO, True, 0), block(VIDEO, True, 5), block(AUDIO, True, 20))
    out = relay(raw)
    assert out == raw
    parser = WebmParser()
    pieces = Reclusterer(parser).feed(parser.feed(raw))
    assert [(p.init, p.cluster_start, p.sync) for p in pieces if not p.init] == [
        (False, True, True)
    ]


def test_keyframeless_minute_is_cut_within_16_bit_reach() -> None:
    children = [block(VIDEO, True, 0)]
    out_of_reach = []
    for second in range(1, 41):  # a delta frame per second for 40 s, one cluster per second
        out_of_reach.append(media.cluster(block(VIDEO, False, 0), timecode=second * 1000))
    raw = INIT + media.cluster(*children) + b"".join(out_of_reach)
    out = relay(raw)
    assert blocks(out) == blocks(raw)
    clusters = media.unknown_size_clusters(out)[1]
    assert len(clusters) == 2
    assert first_video(clusters[1][1]).keyframe is False  # forced: no keyframe to wait for
    assert all(-32768 <= b.time - clusters[1][1][0].time < 32768 for b in clusters[1][1])


def test_block_groups_and_extra_elements() -> None:
    """BlockGroups are re-timed too (a ReferenceBlock marks a delta frame); Position,
    Void and level-1 elements after the clusters are left out."""
    position = media.uint_element(0xA7, 1234)
    void = media.element(0xEC, b"\0" * 8)
    group_delta = media.block_group(VIDEO, reference=True)
    group_key = media.block_group(VIDEO, reference=False)
    tags = media.element(0x1254C367, b"")
    raw = (
        INIT
        + media.cluster(position, group_key, void, timecode=100)
        + media.cluster(group_delta, timecode=150)
        + tags
    )
    out = relay(raw)
    expected = INIT + media.cluster(group_key, timecode=100)
    # The delta group's Block is now 50 ms into the first cluster.
    delta_block = media.element(
        0xA1, media.encode_size(VIDEO) + (50).to_bytes(2, "big") + b"\x00frame"
    )
    expected += media.element(media.BLOCKGROUP_ID, delta_block + media.element(0xFB, b"\xff"))
    assert out == expected


def test_audio_only_streams_pass_through() -> None:
    init = media.init_segment((AUDIO, 2))
    raw = (
        init
        + media.cluster(block(AUDIO, True, 0), timecode=0)
        + media.cluster(block(AUDIO, True, 0), timecode=20)
    )
    assert relay(raw) == raw
