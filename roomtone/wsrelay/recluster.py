"""Re-clustering: every Cluster a client receives begins with a video keyframe.

Firefox's MediaSource buffers only WebM Clusters that start with a video
keyframe and drops the others. Chromium's MediaRecorder starts a Cluster
every ~200 ms but a keyframe only about every second, and Firefox's own
recorder starts one every second and a keyframe every ~7.5 s; so a Firefox
viewer kept a fraction of each stream and stuttered between stills. Chromium
plays any cluster.

The fix lives here, on the server, rather than in each client: the relay
already parses every stream element by element (webm.py), so it knows where
the keyframes are; doing it once per publisher costs less than a WebM remuxer
in every viewer (phones included); old clients get a stream they play better
without any change; and every cluster becoming a sync point is exactly what
late joiners and skipped-ahead recipients need too (stream.py).

How: the publisher's Cluster headers are dropped and a new unknown-size
Cluster is opened at each video keyframe, with the keyframe's absolute
timecode (unless the open cluster has only audio so far: then the keyframe
is its first video frame, which is all Firefox and late joiners need).
Every block is re-timed against the cluster it now belongs to (the
SimpleBlock/Block timecode is 16 bits, relative to its cluster, in the
stream's TimecodeScale units); only those two bytes change, the frames pass
through untouched. A cluster is also cut, without a keyframe, when a block
would be out of 16-bit reach (a publisher with no keyframe for ~32 s).
Cluster children other than blocks (Position, PrevSize, Void, CRC-32) and
level-1 elements after the first Cluster (Cues, Tags: meaningless for a live
stream, and they would end an unknown-size cluster) are left out. Streams
without video pass through as they are: any cluster is a sync point there.

In every stream the Segment's size, if the publisher wrote one, is marked
unknown in the init segment: what the relay sends has another length than
what was recorded, and a late joiner's stream starts later anyway.
"""

from __future__ import annotations

from dataclasses import replace

from roomtone.wsrelay.ebml import WebmError, iter_children, read_header, read_uint, read_vint
from roomtone.wsrelay.webm import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    EBML_HEADER,
    KEYFRAME_FLAG,
    REFERENCE_BLOCK,
    SEGMENT,
    SIMPLE_BLOCK,
    Piece,
    WebmParser,
)

TIMECODE = 0xE7
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"  # 8 bytes, all value bits set
# Cluster ID, then the unknown size, then Timecode.
_CLUSTER_HEAD = CLUSTER.to_bytes(4, "big") + UNKNOWN_SIZE


def _timecode_element(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return bytes((TIMECODE, 0x80 | len(body))) + body


class Reclusterer:
    """Turns the parser's pieces into pieces whose every Cluster opens with a keyframe."""

    def __init__(self, parser: WebmParser) -> None:
        self.parser = parser  # whose Tracks say which track numbers are video
        self._in_cluster_time: int | None = None  # timecode of the publisher's current cluster
        self._out_cluster_time: int | None = None  # timecode of the cluster we are writing
        self._out_has_video = False  # has it a video block yet?
        self.last_keyframe_time: int | None = None  # absolute, TimecodeScale units (ms)
        self.last_time: int | None = None  # the newest block's absolute timecode
        self.longest_keyframe_gap = 0  # between two keyframes seen so far
        # The output piece being built: its parts, and [cluster_start, sync] (None: no piece).
        self._parts: list[bytes | memoryview] = []
        self._flags: list[bool] | None = None
        self._segment_seen = False  # its header went by (its size made unknown)

    @property
    def video_tracks(self) -> set[int]:
        return self.parser.video_tracks

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        """The pieces of one chunk, re-clustered: a new piece only where a cluster opens.

        The parser's pieces of one chunk are contiguous, so what is not cut
        becomes one piece: one frame per subscriber instead of one per input piece.
        """
        out: list[Piece] = []
        video = self.parser.video_tracks
        for piece in pieces:
            if piece.init and not self._segment_seen:
                self._flush(out)
                out.append(self._unknown_segment_size(piece))
            elif piece.init or not video:
                self._flush(out)
                out.append(piece)
            else:
                self._recluster(piece.data, video, out)
        self._flush(out)
        return out

    def _unknown_segment_size(self, piece: Piece) -> Piece:
        """The init piece with the Segment's size, if it is in there, made unknown.

        The parser starts init pieces on element boundaries: the EBML header,
        then the Segment's header, in this piece or a later one.
        """
        data = piece.data
        pos, end = 0, len(data)
        while pos < end:
            header = read_header(data, pos, end)
            if header is None:
                break
            element_id, size, header_length = header
            if element_id == EBML_HEADER and size is not None:
                pos += header_length + size
                continue
            self._segment_seen = True
            if element_id != SEGMENT:
                break
            size_at, body = pos + 4, pos + header_length  # a Segment ID is 4 bytes
            if data[size_at:body] != UNKNOWN_SIZE:
                data = b"".join((data[:size_at], UNKNOWN_SIZE, data[body:]))
                return replace(piece, data=data)
            break
        return piece

    def _flush(self, out: list[Piece]) -> None:
        if self._flags is not None and self._parts:
            cluster_start, sync = self._flags
            out.append(Piece(b"".join(self._parts), cluster_start=cluster_start, sync=sync))
        self._parts, self._flags = [], None

    def _recluster(self, data: bytes, video: set[int], out: list[Piece]) -> None:
        """Walk one piece's elements: blocks kept (re-timed where needed), the rest dropped.

        Blocks that keep their bytes are gathered into runs, one slice each.
        """
        view = memoryview(data)
        parts = self._parts
        run = -1  # start of the run of blocks passed through as they are, -1 if none
        pos, end = 0, len(data)
        while pos < end:
            header = read_header(data, pos, end)
            if header is None:
                raise WebmError("cut element inside a parsed piece")
            element_id, size, header_length = header
            body = pos + header_length
            if element_id == CLUSTER:
                if run >= 0:
                    parts.append(view[run:pos])
                    run = -1
                self._in_cluster_time = None
                pos = body  # its children follow; the header itself is dropped
                continue
            assert size is not None  # the parser only passes unknown sizes for containers
            element_end = body + size
            if element_id != SIMPLE_BLOCK and element_id != BLOCK_GROUP:
                if run >= 0:
                    parts.append(view[run:pos])
                    run = -1
                if element_id == TIMECODE:
                    self._in_cluster_time = read_uint(data, body, element_end)
                # Anything else (Position, PrevSize, Void, CRC-32, Cues, Tags…) is left out.
                pos = element_end
                continue
            if self._in_cluster_time is None:
                raise WebmError("block before its cluster's Timecode")
            if element_id == SIMPLE_BLOCK and body + 4 <= element_end and data[body] & 0x80:
                # The usual block: a one-byte track number, then timecode and flags.
                track = data[body] & 0x7F
                timecode_at = body + 1
                relative = ((data[body + 1] << 8 | data[body + 2]) ^ 0x8000) - 0x8000
                keyframe = data[body + 3] & KEYFRAME_FLAG != 0
            else:
                track, relative, keyframe, timecode_at = self._block(
                    element_id, data, body, element_end
                )
            absolute = self._in_cluster_time + relative
            is_video = track in video
            if is_video and keyframe:
                self._note_keyframe(absolute)
            # A keyframe opens a cluster, unless the open one has no video yet (audio
            # that came just before it): then it is that cluster's first video frame.
            cut = is_video and keyframe and self._out_has_video
            start = self._out_cluster_time
            if start is None or not -32768 <= absolute - start <= 32767:
                cut = True
            if cut:
                if run >= 0:
                    parts.append(view[run:pos])
                    run = -1
                self._flush(out)
                parts = self._parts = [_CLUSTER_HEAD, _timecode_element(absolute)]
                self._flags = [True, False]
                self._out_cluster_time = start = absolute
                self._out_has_video = False
            elif self._flags is None:
                self._flags = [False, False]
            if is_video and not self._out_has_video:
                self._out_has_video = True
                self._flags[1] = keyframe  # the cluster is a sync point from this piece on
            self.last_time = absolute
            new_relative = absolute - start  # type: ignore[operator]
            if new_relative == relative:
                if run < 0:
                    run = pos
            else:
                if run >= 0:
                    parts.append(view[run:pos])
                    run = -1
                parts += (
                    view[pos:timecode_at],
                    new_relative.to_bytes(2, "big", signed=True),
                    view[timecode_at + 2 : element_end],
                )
            pos = element_end
        if run >= 0:
            parts.append(view[run:end])

    def _note_keyframe(self, absolute: int) -> None:
        if self.last_keyframe_time is not None:
            gap = absolute - self.last_keyframe_time
            self.longest_keyframe_gap = max(self.longest_keyframe_gap, gap)
        self.last_keyframe_time = absolute

    @staticmethod
    def _block(element_id: int, data: bytes, start: int, end: int) -> tuple[int, int, bool, int]:
        """(track, relative timecode, keyframe, offset of the timecode) of a block element."""
        keyframe = True
        if element_id == BLOCK_GROUP:
            block = None
            for child_id, child, child_end in iter_children(data, start, end):
                if child_id == BLOCK:
                    block = (child, child_end)
                elif child_id == REFERENCE_BLOCK:
                    keyframe = False
            if block is None:
                raise WebmError("BlockGroup without a Block")
            start, end = block
        vint = read_vint(data, start, end, keep_marker=False)
        if vint is None or start + vint[1] + 3 > end:
            raise WebmError("block too short for its header")
        track, length, _ = vint
        at = start + length
        relative = int.from_bytes(data[at : at + 2], "big", signed=True)
        if element_id == SIMPLE_BLOCK:
            keyframe = bool(data[at + 2] & KEYFRAME_FLAG)
        return track, relative, keyframe, at
