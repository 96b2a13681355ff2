"""An incremental WebM (EBML) parser that turns arbitrary chunks into element-aligned pieces.

MediaRecorder chunks are cut wherever the browser pleases, but a late joiner's
MediaSource must start with the initialization segment and then a cluster that
opens with a video keyframe. So the relay has to know where elements begin:
this parser buffers the incomplete tail of the stream, and each time a chunk
completes whole elements it hands back exactly those bytes (byte-exact with the
input), split so that every Cluster begins a new piece, and tagged with what
the relay needs: init segment, cluster start, sync point.

Only what that requires is parsed: the EBML header (DocType), the Segment and
its level-1 elements, Tracks (which track numbers are video), and, inside
Clusters, the header of SimpleBlock / BlockGroup elements (track, keyframe).
Everything else passes through untouched. Input that cannot be WebM raises
:class:`WebmError`; element sizes are capped so garbage cannot grow memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from roomtone.wsrelay.ebml import WebmError, iter_children, read_header, read_uint, read_vint

__all__ = ["DEFAULT_MAX_ELEMENT_BYTES", "Piece", "WebmError", "WebmParser"]

EBML_HEADER = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
TRACK_TYPE_VIDEO = 1
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
KEYFRAME_FLAG = 0x80

# Level-1 elements (children of Segment). Inside an unknown-size Cluster, one of
# these (or another Cluster) is what ends the cluster.
LEVEL1 = frozenset(
    {
        0x114D9B74,  # SeekHead
        0x1549A966,  # Info
        TRACKS,
        CLUSTER,
        0x1C53BB6B,  # Cues
        0x1043A770,  # Chapters
        0x1254C367,  # Tags
        0x1941A469,  # Attachments
    }
)
TOP_LEVEL = frozenset({EBML_HEADER, SEGMENT})
DOC_TYPES = frozenset({"webm", "matroska"})

DEFAULT_MAX_ELEMENT_BYTES = 4 * 1024 * 1024

_EXPECT_EBML, _EXPECT_SEGMENT, _IN_SEGMENT, _ENDED = range(4)


@dataclass(frozen=True, slots=True)
class Piece:
    """Whole elements completed by a chunk, exactly as they were received.

    `init`: these bytes belong to the initialization segment (everything before
    the first Cluster). `init_complete`: the init segment ended just before this
    piece (set on the first piece after it). `cluster_start`: a Cluster element
    begins at `data[0]`. `sync`: the cluster in progress was found to be a sync
    point within this piece (its first video block is a keyframe, or the
    stream has no video); set once per such cluster.
    """

    data: bytes
    init: bool = False
    init_complete: bool = False
    cluster_start: bool = False
    sync: bool = False


@dataclass(slots=True)
class _Container:
    id: int
    end: int | None  # absolute stream offset, None for unknown size


@dataclass(slots=True)
class _Split:
    """Where a piece starts in the buffer, and its tags (filled in while scanning)."""

    start: int
    init: bool = False
    init_complete: bool = False
    cluster_start: bool = False
    sync: bool = False


class WebmParser:
    """Feed chunks, get element-aligned :class:`Piece` objects back."""

    def __init__(self, max_element_bytes: int = DEFAULT_MAX_ELEMENT_BYTES) -> None:
        self.max_element_bytes = max_element_bytes
        self.video_tracks: set[int] = set()
        self.init_complete = False
        self._buf = bytearray()
        self._base = 0  # absolute stream offset of _buf[0]
        self._phase = _EXPECT_EBML
        self._stack: list[_Container] = []
        self._limit: int | None = None  # end of the innermost known-size container
        self._cluster_sync: bool | None = None  # None: not decided yet for this cluster
        self._error: WebmError | None = None
        self._need = 0  # buffer length the next element needs before scanning can progress
        self._at = 0  # where the scan is, for error messages

    @property
    def buffered(self) -> int:
        """Bytes held back because they do not complete an element yet."""
        return len(self._buf)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Piece]:
        """Add bytes; return the pieces they complete (possibly none)."""
        if self._error is not None:
            raise self._error
        self._buf += chunk
        if len(self._buf) < self._need:
            return []
        splits = [_Split(0, init=not self.init_complete)]
        try:
            pos = self._scan(splits)
        except WebmError as exc:
            self._error = WebmError(f"{exc} (stream byte {self._base + self._at})")
            self._buf = bytearray()
            self._stack.clear()
            raise self._error from None
        pieces = []
        with memoryview(self._buf) as view:
            for index, split in enumerate(splits):
                end = splits[index + 1].start if index + 1 < len(splits) else pos
                if end > split.start:
                    pieces.append(
                        Piece(
                            bytes(view[split.start : end]),
                            init=split.init,
                            init_complete=split.init_complete,
                            cluster_start=split.cluster_start,
                            sync=split.sync,
                        )
                    )
        del self._buf[:pos]
        self._base += pos
        self._need = max(0, self._need - pos)
        return pieces

    def _scan(self, splits: list[_Split]) -> int:
        """Consume every complete element in the buffer; return where the complete part ends."""
        buf, end = self._buf, len(self._buf)
        pos = 0
        while True:
            self._at = pos
            if self._limit is not None and self._base + pos >= self._limit:
                self._close_containers(self._base + pos)
            header = read_header(buf, pos, end)
            if header is None:
                self._need = 0
                return pos
            element_id, size, header_length = header
            body = pos + header_length
            parent = self._stack[-1].id if self._stack else None

            if parent == CLUSTER and element_id in LEVEL1:
                if self._stack[-1].end is not None:
                    raise WebmError(f"level-1 element 0x{element_id:X} inside a Cluster")
                self._stack.pop()  # an unknown-size Cluster ends where a level-1 element begins
                parent = SEGMENT
            if element_id in TOP_LEVEL and parent is not None:
                raise WebmError(f"unexpected element 0x{element_id:X} inside the Segment")
            self._check_fits(element_id, size, body)

            if parent is None:
                if self._phase == _EXPECT_EBML:
                    if element_id != EBML_HEADER:
                        raise WebmError("not a WebM stream (no EBML header)")
                    if size is None:
                        raise WebmError("EBML header of unknown size")
                    if body + size > end:
                        self._need = body + size
                        return pos
                    self._check_doc_type(buf, body, body + size)
                    pos = body + size
                    self._phase = _EXPECT_SEGMENT
                elif self._phase == _EXPECT_SEGMENT:
                    if element_id != SEGMENT:
                        raise WebmError(f"expected a Segment, found element 0x{element_id:X}")
                    self._push(SEGMENT, size, body)
                    pos = body
                    self._phase = _IN_SEGMENT
                else:
                    raise WebmError("data after the end of the Segment")
                continue

            if parent == SEGMENT and element_id == CLUSTER:
                self._start_cluster(splits, pos)
                self._push(CLUSTER, size, body)
                pos = body
                continue

            # Any other element is buffered whole and passed through.
            if size is None:
                raise WebmError(f"element 0x{element_id:X} of unknown size")
            if body + size > end:
                self._need = body + size
                return pos
            if element_id == TRACKS and parent == SEGMENT:
                self._read_tracks(buf, body, body + size)
            elif parent == CLUSTER and self._cluster_sync is None:
                if element_id in (SIMPLE_BLOCK, BLOCK_GROUP):
                    self._inspect_block(element_id, buf, body, body + size, splits[-1])
            pos = body + size

    def _check_fits(self, element_id: int, size: int | None, body: int) -> None:
        if size is None:
            return
        if element_id not in (SEGMENT, CLUSTER) and size > self.max_element_bytes:
            raise WebmError(
                f"element 0x{element_id:X} of {size} bytes exceeds the "
                f"{self.max_element_bytes}-byte limit"
            )
        # Known sizes nest (this check keeps them so): the innermost end is the tightest.
        limit = self._limit
        if limit is not None and self._base + body + size > limit:
            raise WebmError(f"element 0x{element_id:X} overruns its parent")

    def _push(self, element_id: int, size: int | None, body: int) -> None:
        end = None if size is None else self._base + body + size
        self._stack.append(_Container(element_id, end))
        if end is not None:
            self._limit = end

    def _close_containers(self, position: int) -> None:
        """Pop the containers that end at `position` (known sizes only)."""
        stack = self._stack
        while stack:
            known = [i for i, c in enumerate(stack) if c.end is not None and c.end <= position]
            if not known:
                return
            del stack[known[0] :]
            self._limit = next((c.end for c in reversed(stack) if c.end is not None), None)
            if not stack:
                self._phase = _ENDED

    def _start_cluster(self, splits: list[_Split], pos: int) -> None:
        split = splits[-1]
        if pos > split.start:
            split = _Split(pos)
            splits.append(split)
        split.init = False
        split.cluster_start = True
        if not self.init_complete:
            self.init_complete = True
            split.init_complete = True
        if self.video_tracks:
            self._cluster_sync = None
        else:
            self._cluster_sync = True
            split.sync = True

    def _check_doc_type(self, buf: bytearray, start: int, end: int) -> None:
        for element_id, body, body_end in iter_children(buf, start, end):
            if element_id == DOC_TYPE:
                doc_type = bytes(buf[body:body_end]).rstrip(b"\0").decode("ascii", "replace")
                if doc_type not in DOC_TYPES:
                    raise WebmError(f"not a WebM stream (DocType {doc_type[:20]!r})")

    def _read_tracks(self, buf: bytearray, start: int, end: int) -> None:
        video = set()
        for element_id, body, body_end in iter_children(buf, start, end):
            if element_id != TRACK_ENTRY:
                continue
            number = kind = None
            for child_id, child, child_end in iter_children(buf, body, body_end):
                if child_id == TRACK_NUMBER:
                    number = read_uint(buf, child, child_end)
                elif child_id == TRACK_TYPE:
                    kind = read_uint(buf, child, child_end)
            if number is not None and kind == TRACK_TYPE_VIDEO:
                video.add(number)
        self.video_tracks = video

    def _inspect_block(
        self, element_id: int, buf: bytearray, start: int, end: int, split: _Split
    ) -> None:
        """Decide whether the current cluster is a sync point from its first video block."""
        if element_id == SIMPLE_BLOCK:
            track, keyframe = self._block_header(buf, start, end, simple=True)
        else:
            track, keyframe = None, True
            for child_id, child, child_end in iter_children(buf, start, end):
                if child_id == BLOCK:
                    track, _ = self._block_header(buf, child, child_end, simple=False)
                elif child_id == REFERENCE_BLOCK:
                    keyframe = False
            if track is None:
                return
        if track in self.video_tracks:
            self._cluster_sync = keyframe
            split.sync = keyframe

    @staticmethod
    def _block_header(buf: bytearray, start: int, end: int, *, simple: bool) -> tuple[int, bool]:
        """(track number, keyframe flag) of a (Simple)Block body."""
        vint = read_vint(buf, start, end, keep_marker=False)
        if vint is None:
            raise WebmError("block too short for its track number")
        track, length, _ = vint
        flags_at = start + length + 2  # after the 16-bit relative timecode
        if flags_at >= end:
            raise WebmError("block too short for its header")
        return track, simple and bool(buf[flags_at] & KEYFRAME_FLAG)
