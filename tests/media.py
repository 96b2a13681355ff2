"""Test media: a real VP8 + Opus WebM made with PyAV, and a MediaRecorder-like rewrite.

The file is generated once per test process (cached in memory and on disk) so
every WebM test works on the same bytes. `walk` and `mediarecorder_like` are a
deliberately naive, whole-file EBML reader, independent of `roomtone.wsrelay.webm`,
so parser tests compare against a second implementation rather than themselves.
"""

from __future__ import annotations

import functools
import hashlib
import random
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

WIDTH, HEIGHT, FPS = 320, 240, 30
SECONDS = 4
GOP = 30  # a keyframe every second
SAMPLE_RATE = 48000
AUDIO_FRAME = 960  # 20 ms, Opus' natural frame

EBML_ID = 0x1A45DFA3
SEGMENT_ID = 0x18538067
CLUSTER_ID = 0x1F43B675
TRACKS_ID = 0x1654AE6B
INFO_ID = 0x1549A966
SIMPLEBLOCK_ID = 0xA3
BLOCKGROUP_ID = 0xA0
UNKNOWN_SIZE = bytes.fromhex("01FFFFFFFFFFFFFF")

_CACHE_DIR = Path(tempfile.gettempdir()) / "roomtone-test-media"


def _video_frame(index: int, rng: random.Random) -> av.VideoFrame:
    """A moving gradient with a moving noise square: cheap to make, real work to encode."""
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    base = bytes(range(256)) * 4
    shift = index * 3
    rows = [base[(y + shift) % 256 : (y + shift) % 256 + WIDTH] for y in range(HEIGHT)]
    square, sx, sy = 64, (index * 5) % (WIDTH - 64), (index * 3) % (HEIGHT - 64)
    for y in range(sy, sy + square):
        row = rows[y]
        rows[y] = row[:sx] + rng.randbytes(square) + row[sx + square :]
    frame.planes[0].update(b"".join(rows))
    chroma = (WIDTH // 2) * (HEIGHT // 2)
    frame.planes[1].update(bytes([(96 + index) % 256]) * chroma)
    frame.planes[2].update(bytes([(160 - index) % 256]) * chroma)
    frame.pts = index
    frame.time_base = Fraction(1, FPS)
    return frame


def _audio_frame(index: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_FRAME)
    # A square wave: enough signal for the encoder, no numpy needed.
    period = 100
    samples = bytearray()
    for n in range(AUDIO_FRAME):
        value = 6000 if ((index * AUDIO_FRAME + n) // (period // 2)) % 2 else -6000
        samples += value.to_bytes(2, "little", signed=True)
    frame.planes[0].update(bytes(samples))
    frame.sample_rate = SAMPLE_RATE
    frame.pts = index * AUDIO_FRAME
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


def _generate(path: Path) -> None:
    # Short clusters (0.4 s) so some clusters start without a keyframe, as with
    # MediaRecorder timeslices; a keyframe always opens a new cluster.
    with av.open(str(path), "w", format="webm", options={"cluster_time_limit": "400"}) as out:
        video = out.add_stream("libvpx", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.bit_rate = 600_000
        video.gop_size = GOP
        video.codec_context.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
        }
        audio = out.add_stream("libopus", rate=SAMPLE_RATE)
        audio.layout = "mono"
        audio.bit_rate = 32_000
        rng = random.Random(1234)
        audio_frames = SECONDS * SAMPLE_RATE // AUDIO_FRAME
        video_frames = SECONDS * FPS
        a = v = 0
        while a < audio_frames or v < video_frames:
            # Interleave by time so the muxer sees packets in order.
            if v < video_frames and (a >= audio_frames or v / FPS <= a * AUDIO_FRAME / SAMPLE_RATE):
                out.mux(video.encode(_video_frame(v, rng)))
                v += 1
            else:
                out.mux(audio.encode(_audio_frame(a)))
                a += 1
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


@functools.cache
def sample_webm() -> bytes:
    """The test WebM (known-size clusters, SeekHead, Cues, as ffmpeg writes files)."""
    key = hashlib.sha256(f"{av.__version__}-{WIDTH}x{HEIGHT}-{SECONDS}-{GOP}-v1".encode())
    path = _CACHE_DIR / f"sample-{key.hexdigest()[:16]}.webm"
    if not path.exists():
        _CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        _generate(partial)
        partial.replace(path)
    return path.read_bytes()


# --- a naive whole-buffer EBML reader (test oracle) --------------------------------------


def read_id(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    return int.from_bytes(data[pos : pos + length], "big"), pos + length


def read_size(data: bytes, pos: int) -> tuple[int | None, int]:
    first = data[pos]
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    value = first & ((0x80 >> (length - 1)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    unknown = value == (1 << (7 * length)) - 1
    return (None if unknown else value), pos + length


@dataclass
class Element:
    id: int
    start: int  # offset of the ID
    data_start: int
    end: int  # offset after the element (known sizes only)

    def header(self, data: bytes) -> bytes:
        return data[self.start : self.data_start]


def children(data: bytes, start: int, end: int) -> list[Element]:
    out = []
    pos = start
    while pos < end:
        element_id, p = read_id(data, pos)
        size, p = read_size(data, p)
        assert size is not None, "the oracle needs known sizes"
        out.append(Element(element_id, pos, p, p + size))
        pos = p + size
    return out


def top_level(data: bytes) -> tuple[Element, Element, list[Element]]:
    """EBML header, Segment, and the Segment's level-1 children of a known-size file."""
    ebml, segment = children(data, 0, len(data))[:2]
    assert ebml.id == EBML_ID and segment.id == SEGMENT_ID
    return ebml, segment, children(data, segment.data_start, segment.end)


def video_track_numbers(data: bytes, tracks: Element) -> set[int]:
    found = set()
    for entry in children(data, tracks.data_start, tracks.end):
        fields = {
            c.id: data[c.data_start : c.end] for c in children(data, entry.data_start, entry.end)
        }
        if int.from_bytes(fields.get(0x83, b""), "big") == 1:
            found.add(int.from_bytes(fields[0xD7], "big"))
    return found


def cluster_starts_with_video_keyframe(data: bytes, cluster: Element, video: set[int]) -> bool:
    """Is the cluster's first video block a keyframe (a point a decoder can start at)?"""
    if not video:
        return True
    for child in children(data, cluster.data_start, cluster.end):
        if child.id == SIMPLEBLOCK_ID:
            track, p = read_size(data, child.data_start)
            if track in video:
                return bool(data[p + 2] & 0x80)
        elif child.id == BLOCKGROUP_ID:
            parts = children(data, child.data_start, child.end)
            block = next(c for c in parts if c.id == 0xA1)
            track, _ = read_size(data, block.data_start)
            if track in video:
                return not any(c.id == 0xFB for c in parts)
    return False


@dataclass
class Layout:
    """Where things are in a test file, computed by the oracle."""

    init_end: int  # offset of the first Cluster
    clusters: list[tuple[int, bool]]  # (offset, is a sync point)
    video_tracks: set[int]


def layout(data: bytes) -> Layout:
    _, _, level1 = top_level(data)
    tracks = next(e for e in level1 if e.id == TRACKS_ID)
    video = video_track_numbers(data, tracks)
    clusters = [
        (e.start, cluster_starts_with_video_keyframe(data, e, video))
        for e in level1
        if e.id == CLUSTER_ID
    ]
    return Layout(init_end=clusters[0][0], clusters=clusters, video_tracks=video)


def mediarecorder_like(data: bytes) -> bytes:
    """Rewrite a file the way MediaRecorder streams: Segment and Clusters of unknown size,
    no SeekHead, Cues or Tags (a browser cannot seek back to write them)."""
    ebml, segment, level1 = top_level(data)
    out = [data[ebml.start : ebml.end], data[segment.start : segment.start + 4], UNKNOWN_SIZE]
    for element in level1:
        if element.id in (INFO_ID, TRACKS_ID):
            out.append(data[element.start : element.end])
        elif element.id == CLUSTER_ID:
            out += [data[element.start : element.start + 4], UNKNOWN_SIZE]
            out.append(data[element.data_start : element.end])
    return b"".join(out)


def unknown_size_layout(data: bytes) -> Layout:
    """`layout` of `mediarecorder_like(data)`, derived from the original file."""
    original = layout(data)
    rewritten = mediarecorder_like(data)
    _, _, level1 = top_level(data)
    clusters = [e for e in level1 if e.id == CLUSTER_ID]
    offsets = []
    # Each cluster keeps its body; only headers change length, so search the bodies.
    pos = 0
    for cluster, (_, sync) in zip(clusters, original.clusters, strict=True):
        marker = data[cluster.start : cluster.start + 4] + UNKNOWN_SIZE
        marker += data[cluster.data_start : cluster.data_start + 32]
        pos = rewritten.index(marker, pos)
        offsets.append((pos, sync))
        pos += 1
    return Layout(init_end=offsets[0][0], clusters=offsets, video_tracks=original.video_tracks)


def random_chunks(data: bytes, rng: random.Random, low: int = 1, high: int = 4096) -> list[bytes]:
    chunks, pos = [], 0
    while pos < len(data):
        size = rng.randint(low, high)
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


# --- hand-built EBML, for cases a real encoder does not produce --------------------------


def encode_size(size: int | None) -> bytes:
    """Shortest size vint; None is the 8-byte unknown size MediaRecorder writes."""
    if size is None:
        return UNKNOWN_SIZE
    length = 1
    while size >= (1 << (7 * length)) - 1:
        length += 1
    return ((1 << (7 * length)) | size).to_bytes(length, "big")


def element(element_id: int, body: bytes = b"", *, unknown: bool = False) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + encode_size(None if unknown else len(body)) + body


def uint_element(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def ebml_header(doc_type: str = "webm") -> bytes:
    return element(EBML_ID, uint_element(0x4286, 1) + element(0x4282, doc_type.encode()))


def tracks_element(*entries: tuple[int, int]) -> bytes:
    """Tracks with (TrackNumber, TrackType) entries; type 1 is video, 2 audio."""
    body = b"".join(
        element(0xAE, uint_element(0xD7, number) + uint_element(0x83, kind))
        for number, kind in entries
    )
    return element(TRACKS_ID, body)


def simple_block(track: int, keyframe: bool, payload: bytes = b"frame") -> bytes:
    body = encode_size(track) + b"\x00\x00" + bytes([0x80 if keyframe else 0]) + payload
    return element(SIMPLEBLOCK_ID, body)


def block_group(track: int, *, reference: bool, payload: bytes = b"frame") -> bytes:
    block = element(0xA1, encode_size(track) + b"\x00\x00\x00" + payload)
    ref = element(0xFB, b"\xff") if reference else b""
    return element(BLOCKGROUP_ID, block + ref)


def cluster(*children: bytes, unknown: bool = True, timecode: int = 0) -> bytes:
    body = uint_element(0xE7, timecode) + b"".join(children)
    return element(CLUSTER_ID, body, unknown=unknown)


def init_segment(*track_entries: tuple[int, int]) -> bytes:
    """EBML header + Segment header + Info + Tracks (Segment of unknown size)."""
    info = element(INFO_ID, uint_element(0x2AD7B1, 1_000_000))
    return (
        ebml_header()
        + element(SEGMENT_ID, b"", unknown=True)
        + info
        + tracks_element(*track_entries)
    )


# --- the relay's shape of a stream (roomtone/wsrelay/recluster.py) ------------------------


def relay_shaped(data: bytes) -> bytes:
    """What the relay sends of a MediaRecorder-like stream: the same frames, in clusters
    re-cut so that each begins with a video keyframe (one pass of the real code)."""
    from roomtone.wsrelay.recluster import Reclusterer
    from roomtone.wsrelay.webm import WebmParser

    parser = WebmParser()
    return b"".join(piece.data for piece in Reclusterer(parser).feed(parser.feed(data)))


@dataclass
class Block:
    track: int
    time: int  # absolute: cluster Timecode + the block's relative timecode
    keyframe: bool
    frame: bytes


def unknown_size_clusters(data: bytes) -> tuple[int, list[tuple[int, list[Block]]]]:
    """(init end, [(cluster offset, blocks)]) of a stream whose Segment and Clusters have
    unknown sizes and hold SimpleBlocks (as MediaRecorder and the relay write them)."""
    ebml = children(data, 0, len(data[: data.index(SEGMENT_ID.to_bytes(4, "big"))]))[0]
    pos = ebml.end + 4 + len(UNKNOWN_SIZE)
    clusters: list[tuple[int, list[Block]]] = []
    init_end = None
    time = 0
    while pos < len(data):
        element_id, p = read_id(data, pos)
        size, p = read_size(data, p)
        if element_id == CLUSTER_ID:
            init_end = pos if init_end is None else init_end
            clusters.append((pos, []))
            pos = p
            continue
        assert size is not None
        if clusters and element_id == 0xE7:
            time = int.from_bytes(data[p : p + size], "big")
        elif clusters and element_id == SIMPLEBLOCK_ID:
            track, q = read_size(data, p)
            relative = int.from_bytes(data[q : q + 2], "big", signed=True)
            keyframe = bool(data[q + 2] & 0x80)
            clusters[-1][1].append(Block(track, time + relative, keyframe, data[q + 3 : p + size]))
        pos = p + size
    return (init_end if init_end is not None else len(data)), clusters


def relay_layout(data: bytes, video: set[int]) -> Layout:
    """`layout` of a relay-shaped stream (unknown-size clusters)."""
    init_end, clusters = unknown_size_clusters(data)
    syncs = []
    for offset, blocks in clusters:
        first_video = next((b for b in blocks if b.track in video), None)
        syncs.append((offset, first_video is not None and first_video.keyframe))
    return Layout(init_end=init_end, clusters=syncs, video_tracks=video)
