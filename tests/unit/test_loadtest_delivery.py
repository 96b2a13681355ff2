"""WS-mode delivery accounting of `roomtone loadtest`: frames are found in whatever a
server sends (verbatim, element-aligned, re-clustered), named in the endless stream,
and credited to the chunk that carried them; corrupt media is an error."""

from __future__ import annotations

import random

import pytest

from roomtone.loadtest.blocks import BlockScanner, Frame, ScanError
from roomtone.loadtest.frames import FrameIndex
from roomtone.loadtest.media import MediaSpec
from roomtone.loadtest.webm import ChunkSource, recording
from roomtone.loadtest.wsdelivery import DeliveryError, Follower, Publication
from roomtone.wsrelay.recluster import Reclusterer
from roomtone.wsrelay.webm import WebmParser
from tests import media

REC = recording(MediaSpec())
CLUSTER_ID = bytes.fromhex("1F43B675")
INDEX = FrameIndex(REC)


def stream(loops: int) -> bytes:
    return REC.init + b"".join(REC.loop(i) for i in range(loops))


def scan(data: bytes, rng: random.Random | None = None) -> list[Frame]:
    scanner = BlockScanner()
    chunks = media.random_chunks(data, rng, 1, 5000) if rng else [data]
    return [frame for chunk in chunks for frame in scanner.feed(memoryview(chunk))]


class Relay:
    """Our relay's treatment of a stream, chunk by chunk: whole elements, re-clustered."""

    def __init__(self) -> None:
        self.parser = WebmParser()
        self.recluster = Reclusterer(self.parser)

    def __call__(self, chunk: bytes) -> bytes:
        pieces = self.recluster.feed(self.parser.feed(chunk))
        return b"".join(piece.data for piece in pieces)


def verbatim(chunk: bytes) -> bytes:
    return chunk


# --- the scanner and the index -------------------------------------------------------------


def test_scanner_finds_the_same_frames_in_the_stream_and_the_relays_version():
    data = stream(3)
    frames = scan(data, random.Random(1))
    assert frames == scan(data) == scan(media.relay_shaped(data), random.Random(2))
    assert len(frames) == 3 * INDEX.count
    ordinals = [INDEX.find(f.track, f.time) for f in frames]
    assert ordinals == list(range(len(frames)))
    assert all(frame.data == INDEX.data(o) for frame, o in zip(frames, ordinals, strict=True))


def test_index_knows_where_each_frame_ends_in_the_published_stream():
    data = stream(3)
    for ordinal in (0, 1, INDEX.count - 1, INDEX.count, 2 * INDEX.count + 7):
        end = INDEX.end(ordinal)
        # the frame ends its element (a BlockGroup may add a few bytes after the Block)
        assert INDEX.data(ordinal) in data[end - len(INDEX.data(ordinal)) - 16 : end]
        assert data[end] in (0xA3, 0xA0) or data[end : end + 4] == CLUSTER_ID
    assert INDEX.loop_bytes == len(REC.loop(0))
    assert INDEX.find(1, -5) is None and INDEX.find(99, 0) is None and INDEX.find(1, 7) is None


def test_scanner_reads_known_sizes_block_groups_and_skips_the_rest():
    init = media.init_segment((1, 1), (2, 2))
    body = media.cluster(
        media.element(0xEC, b"\x00" * 40),  # Void
        media.simple_block(1, True, b"key"),
        media.block_group(2, reference=False, payload=b"audio"),
        timecode=1000,
        unknown=False,
    )
    cues = media.element(0x1C53BB6B, b"\x00" * 3000)
    data = init + body + cues + media.cluster(media.simple_block(1, False, b"delta"), timecode=2000)
    expected = [
        Frame(1, 1000, b"\x80key"),
        Frame(2, 1000, b"\x00audio"),
        Frame(1, 2000, b"\x00delta"),
    ]
    assert scan(data) == expected
    scanner = BlockScanner()  # byte by byte: skipped elements are not buffered
    assert [f for i in range(len(data)) for f in scanner.feed(data[i : i + 1])] == expected


IN_A_CLUSTER = media.init_segment((1, 1)) + media.cluster(media.simple_block(1, True))


@pytest.mark.parametrize(
    "data",
    [
        IN_A_CLUSTER + b"\x00" * 16,  # not an EBML integer
        IN_A_CLUSTER + b"\x08\x81\x00",  # a 5-byte element ID
        IN_A_CLUSTER + media.element(0xA3, b"\x01" * 9000, unknown=True),  # unknown size
        IN_A_CLUSTER + b"\xa3\x01" + b"\x7f" * 7,  # a block of 2^55 bytes
        # a Cluster without a Timecode, right after the init segment
        media.init_segment((1, 1)) + media.element(0x1F43B675, media.simple_block(1, True)),
    ],
)
def test_scanner_rejects_what_is_not_webm(data):
    with pytest.raises(ScanError):
        scan(data)


def test_scanner_passes_over_a_mid_stream_start_up_to_the_next_cluster():
    data = stream(2)
    first = scan(data)
    _, clusters = media.unknown_size_clusters(data)
    for cut in (1, 5000, clusters[1][0] - 2, clusters[1][0]):
        # the original server starts a late joiner mid-stream, without the init segment
        scanner = BlockScanner()
        rng = random.Random(cut)
        chunks = media.random_chunks(data[cut:], rng, 1, 3000)
        frames = [frame for chunk in chunks for frame in scanner.feed(chunk)]
        k = next(k for k, (offset, _) in enumerate(clusters) if offset >= cut)
        assert frames == first[sum(len(blocks) for _, blocks in clusters[:k]) :]
        assert scanner.passed_over == clusters[k][0] - cut
    # the init segment, then the middle of a stream
    middle = data[: len(REC.init)] + data[clusters[1][0] - 700 :]
    assert scan(middle, random.Random(3)) == first[len(clusters[0][1]) :]


def test_scanner_gives_up_on_bytes_that_never_reach_a_cluster():
    scanner = BlockScanner(max_element_bytes=10_000)
    scanner.feed(b"\x42" * 9000)
    with pytest.raises(ScanError, match="no Cluster"):
        scanner.feed(b"\x42" * 2000)


# --- crediting chunks ----------------------------------------------------------------------


def publish(chunks: int, chunk_bytes: int = 9000) -> tuple[Publication, list[bytes]]:
    source = ChunkSource(REC, chunk_bytes)
    publication = Publication(keep_seconds=1000.0)
    sent = []
    for i in range(chunks):
        chunk = source.next_chunk()
        publication.append(len(chunk), float(i))
        sent.append(chunk)
    return publication, sent


def expected_arrival(publication: Publication, index: int) -> float | None:
    """When chunk `index` is delivered: with the chunk completing the frame that holds
    (or follows) its last byte; a relay forwards a frame once all of it has come."""
    end = publication.ends[index]
    ordinal = next(o for o in range(10**6) if INDEX.end(o) >= end)
    for j, chunk_end in enumerate(publication.ends):
        if chunk_end >= INDEX.end(ordinal):
            return j + 0.5
    return None


@pytest.mark.parametrize("server", [verbatim, Relay], ids=["verbatim", "relay"])
def test_each_chunk_is_credited_once_when_its_last_frame_arrives(server):
    publication, sent = publish(60)
    forward = server() if server is Relay else server
    follower = Follower(publication, INDEX)
    recorded: list[tuple[float, float]] = []
    for i, chunk in enumerate(sent):
        follower.receive(forward(chunk), i + 0.5, 0.0, lambda s, n: recorded.append((s, n)))
    expected = [(float(i), expected_arrival(publication, i)) for i in range(len(sent))]
    expected = [(sent_at, arrival) for sent_at, arrival in expected if arrival is not None]
    assert recorded == expected
    assert len(recorded) >= 58  # the last chunk's tail waits for the next


def test_a_late_joiner_of_a_verbatim_server_is_credited_from_the_next_cluster():
    publication, sent = publish(80)
    joined = 30  # the original server then forwards live chunks, without the init segment
    follower = Follower(publication, INDEX)
    recorded: list[tuple[float, float]] = []
    for i in range(joined, len(sent)):
        follower.receive(sent[i], i + 0.5, 0.0, lambda s, n: recorded.append((s, n)))
    credited = [int(s) for s, _ in recorded]
    assert joined < credited[0] <= joined + 8  # a cluster opens every ~7 chunks
    assert credited == list(range(credited[0], credited[-1] + 1))
    assert recorded == [(float(i), expected_arrival(publication, i)) for i in credited]
    assert follower.scanner.passed_over > 0


def test_late_joiner_history_is_not_live_and_skipped_media_is_not_credited():
    publication, sent = publish(80)
    relay = Relay()
    shaped = [relay(chunk) for chunk in sent]
    whole = b"".join(shaped)
    init_end, clusters = media.unknown_size_clusters(whole)
    recorded: list[tuple[float, float]] = []

    def record(sent_at: float, now: float) -> None:
        recorded.append((sent_at, now))

    # joins at chunk 40: history from the latest cluster start, then live chunks
    joined = 40
    history_end = sum(map(len, shaped[:joined]))
    start = max(offset for offset, _ in clusters if offset < history_end)
    since = joined - 0.5
    follower = Follower(publication, INDEX)
    follower.receive(whole[:init_end] + whole[start:history_end], since, since, record)
    assert recorded == []  # everything so far was sent before the join
    for i in range(joined, len(sent)):
        follower.receive(shaped[i], i + 0.5, since, record)
    assert [s for s, _ in recorded][: len(sent) - 1 - joined] == [
        float(i) for i in range(joined, len(sent) - 1)
    ]

    # skips ahead (a fresh follower after media-start) at a cluster: earlier chunks stay out
    recorded.clear()
    start = clusters[len(clusters) // 2][0]
    skipped = Follower(publication, INDEX)
    skipped.receive(whole[:init_end] + whole[start:], 100.0, 0.0, record)
    first_frame = scan(whole[:init_end] + whole[start:])[0]
    first = INDEX.find(first_frame.track, first_frame.time)
    assert first is not None and first > 0
    credited = [int(s) for s, _ in recorded]
    assert credited == list(range(credited[0], credited[-1] + 1))
    assert publication.ends[credited[0]] > INDEX.end(first - 1)
    assert credited[0] == 0 or publication.ends[credited[0] - 1] <= INDEX.end(first - 1)


def test_corrupt_unknown_repeated_media_are_errors_and_the_stream_is_then_ignored():
    publication, _ = publish(40)
    data = stream(1)
    _, clusters = media.unknown_size_clusters(data)
    _, blocks = clusters[1]
    position = data.index(blocks[3].frame) + 10
    corrupt = data[:position] + bytes([data[position] ^ 1]) + data[position + 1 :]
    follower = Follower(publication, INDEX)
    with pytest.raises(DeliveryError, match="not found in the publisher's stream"):
        follower.receive(corrupt, 1.0, 0.0, lambda *_: None)
    follower.receive(data, 1.0, 0.0, lambda *_: pytest.fail("a failed stream is ignored"))

    follower = Follower(publication, INDEX)
    with pytest.raises(DeliveryError, match="not a WebM stream"):
        follower.receive(REC.init + media.cluster() + b"\x00" * 100, 1.0, 0.0, lambda *_: None)

    follower = Follower(publication, INDEX)
    second = clusters[1][0]
    follower.receive(data[:second], 1.0, 0.0, lambda *_: None)
    with pytest.raises(DeliveryError, match="twice or out of order"):
        follower.receive(data[clusters[0][0] :], 1.0, 0.0, lambda *_: None)


def test_publication_forgets_old_chunks_but_keeps_numbering():
    publication = Publication(keep_seconds=2.0)
    for i in range(100):
        publication.append(1000, i * 0.2)
    assert publication.index_base > 0 and len(publication.ends) <= 2 * 2.0 / 0.2 + 1
    assert publication.index_base + len(publication.ends) == 100
    assert publication.ends[-1] == publication.sent_bytes == 100_000
    assert publication.ends[0] == (publication.index_base + 1) * 1000
    assert publication.times[-1] - publication.times[0] <= 2 * 2.0
