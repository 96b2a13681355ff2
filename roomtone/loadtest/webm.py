"""The cached WebM rewritten as an endless MediaRecorder-like stream, cut into timeslices.

A browser streams a Segment and Clusters of unknown size, without SeekHead or
Cues; the relay under test must cope with exactly that. Looping the file keeps
the stream valid by rewriting each Cluster's Timecode so time only moves
forward, and chunk boundaries fall anywhere, as MediaRecorder's do.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

from roomtone.loadtest.media import MediaSpec, media_file

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
INFO = 0x1549A966
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
TIMECODE = 0xE7
UNKNOWN_SIZE = bytes.fromhex("01FFFFFFFFFFFFFF")
CLUSTER_HEADER = CLUSTER.to_bytes(4, "big") + UNKNOWN_SIZE
STAMP_BYTES = 10  # the Timecode written into each cluster: ID, size, 8-byte value
MIME_TYPE = "video/webm;codecs=vp8,opus"
CUTS = ("anywhere", "elements")


class WebmError(ValueError):
    """The cached file is not the WebM this module expects."""


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, next position, all value bits set) of the EBML variable-size integer at pos."""
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise WebmError(f"invalid EBML integer at {pos}")
    value = first if keep_marker else first & ((0x80 >> (length - 1)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    all_ones = (value & ((1 << (7 * length)) - 1)) == (1 << (7 * length)) - 1
    return value, pos + length, all_ones


def elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(id, element start, data start, data end) of the known-size elements in [start, end)."""
    found = []
    pos = start
    while pos < end:
        element_id, p, _ = _vint(data, pos, keep_marker=True)
        size, p, unknown = _vint(data, p, keep_marker=False)
        if unknown:
            raise WebmError("unknown-size element in the source file")
        found.append((element_id, pos, p, p + size))
        pos = p + size
    if pos != end:
        raise WebmError("element overruns its parent")
    return found


@dataclass(frozen=True)
class Recording:
    """The init segment and the clusters (timecode in ms, body without Timecode) of one loop."""

    init: bytes
    clusters: tuple[tuple[int, bytes], ...]
    loop_ms: int

    def loop(self, index: int) -> bytes:
        """Every cluster of loop `index`, with timecodes shifted by index x loop length."""
        shift = index * self.loop_ms
        parts = []
        for timecode, body in self.clusters:
            stamp = bytes((TIMECODE, 0x80 | (STAMP_BYTES - 2)))
            stamp += (timecode + shift).to_bytes(STAMP_BYTES - 2, "big")
            parts += (CLUSTER_HEADER, stamp, body)
        return b"".join(parts)

    @functools.cached_property
    def boundaries(self) -> tuple[int, ...]:
        """Offsets within a loop where an element ends (cluster header, each block)."""
        found = []
        pos = 0
        for _, body in self.clusters:
            pos += len(CLUSTER_HEADER) + STAMP_BYTES
            found.append(pos)
            for _, _, _, end in elements(body, 0, len(body)):
                found.append(pos + end)
            pos += len(body)
        return tuple(found)


def parse_recording(data: bytes, loop_ms: int) -> Recording:
    """Split a seekable (known-size) WebM file into a live-style init segment and clusters."""
    top = elements(data, 0, len(data))
    if len(top) < 2 or top[0][0] != EBML or top[1][0] != SEGMENT:
        raise WebmError("not an EBML file with a Segment")
    _, ebml_start, _, ebml_end = top[0]
    _, _, seg_data, seg_end = top[1]
    init = [data[ebml_start:ebml_end], SEGMENT.to_bytes(4, "big"), UNKNOWN_SIZE]
    clusters = []
    for element_id, start, body, end in elements(data, seg_data, seg_end):
        if element_id in (INFO, TRACKS):
            init.append(data[start:end])
        elif element_id == CLUSTER:
            timecode = None
            rest = []
            for child_id, c_start, c_data, c_end in elements(data, body, end):
                if child_id == TIMECODE:
                    timecode = int.from_bytes(data[c_data:c_end], "big")
                else:
                    rest.append(data[c_start:c_end])
            if timecode is None:
                raise WebmError("cluster without Timecode")
            clusters.append((timecode, b"".join(rest)))
    if not clusters:
        raise WebmError("no clusters")
    return Recording(b"".join(init), tuple(clusters), loop_ms)


@functools.cache
def recording(spec: MediaSpec) -> Recording:
    return parse_recording(media_file(spec).read_bytes(), spec.seconds * 1000)


class ChunkSource:
    """The stream init + loop 0 + loop 1 + … handed out one timeslice at a time.

    Chunks average `chunk_bytes`, so the offered load is exactly the requested
    bitrate. `cut="anywhere"` ends a chunk at any byte, which the relay must
    cope with; `cut="elements"` ends it after the last whole block, as
    Chrome's recorder tends to. The first chunk also carries the init segment.
    """

    def __init__(self, rec: Recording, chunk_bytes: int, cut: str = "anywhere") -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk size must be positive")
        if cut not in CUTS:
            raise ValueError(f"cut must be one of {', '.join(CUTS)}")
        self.rec = rec
        self.chunk_bytes = chunk_bytes
        self.cut = cut
        self._buffer = bytearray()
        self._buffer_start = 0  # stream offset of _buffer[0]
        self._loops = 0
        self._marks: list[int] = []  # element ends (stream offsets) not yet handed out
        self._target = len(rec.init)  # ideal stream offset after the next chunk
        self.offset = 0  # stream bytes handed out so far
        self._extend(rec.init, [len(rec.init)])

    def _extend(self, data: bytes, marks: list[int]) -> None:
        self._buffer += data
        self._marks += marks

    def _next_loop(self) -> None:
        start = self._buffer_start + len(self._buffer)
        marks = [start + b for b in self.rec.boundaries]
        self._extend(self.rec.loop(self._loops), marks)
        self._loops += 1

    def next_chunk(self) -> bytes:
        self._target += self.chunk_bytes
        while self._buffer_start + len(self._buffer) < self._target:
            self._next_loop()
        end = self._target
        if self.cut == "elements":
            index = bisect.bisect_right(self._marks, end) - 1
            if index >= 0 and self._marks[index] > self.offset:
                end = self._marks[index]
            del self._marks[: index + 1]
        take = end - self._buffer_start
        chunk = bytes(self._buffer[:take])
        del self._buffer[:take]
        self._buffer_start = end
        self.offset = end
        return chunk
