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
"""

from __future__ import annotations

from roomtone.wsrelay.ebml import WebmError, iter_children, read_header, read_uint, read_vint
from roomtone.wsrelay.webm import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    KEYFRAME_FLAG,
    REFERENCE_BLOCK,
    SIMPLE_BLOCK,
    Piece,
    WebmParser,
)

TIMECODE = 0xE7
# Cluster ID, then the 8-byte "unknown size" (all value bits set), then Timecode.
_CLUSTER_HEAD = CLUSTER.to_bytes(4, "big") + b"\x01\xff\xff\xff\xff\xff\xff\xff"
_INT16 = range(-32768, 32768)


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

    @property
    def video_tracks(self) -> set[int]:
        return self.parser.video_tracks

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        out: list[Piece] = []
        for piece in pieces:
            if piece.init or not self.video_tracks:
                out.append(piece)
            else:
                self._recluster(piece, out)
        return out

    def _recluster(self, piece: Piece, out: list[Piece]) -> None:
        data = piece.data
        parts: list[bytes | memoryview] = []
        flags: list[bool] | None = None  # [cluster_start, sync] of the piece being built
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            header = read_header(data, pos, end)
            if header is None:
                raise WebmError("cut element inside a parsed piece")
            element_id, size, header_length = header
            body = pos + header_length
            if element_id == CLUSTER:
                self._in_cluster_time = None
                pos = body  # its children follow; the header itself is dropped
                continue
            assert size is not None  # the parser only passes unknown sizes for containers
            element_end = body + size
            if element_id == TIMECODE:
                self._in_cluster_time = read_uint(data, body, element_end)
            elif element_id in (SIMPLE_BLOCK, BLOCK_GROUP):
                if self._in_cluster_time is None:
                    raise WebmError("block before its cluster's Timecode")
                block = self._block(element_id, data, body, element_end)
                track, relative, keyframe, timecode_at = block
                absolute = self._in_cluster_time + relative
                video = track in self.video_tracks
                if video and keyframe:
                    self._note_keyframe(absolute)
                # A keyframe opens a cluster, unless the open one has no video yet (audio
                # that came just before it): then it is that cluster's first video frame.
                cut = video and keyframe and self._out_has_video
                start = self._out_cluster_time
                if start is None or absolute - start not in _INT16:
                    cut = True
                if cut:
                    if flags is not None and parts:
                        out.append(_piece(parts, flags))
                    parts = [_CLUSTER_HEAD, _timecode_element(absolute)]
                    flags = [True, False]
                    self._out_cluster_time = absolute
                    self._out_has_video = False
                elif flags is None:
                    flags = [False, False]
                if video and not self._out_has_video:
                    self._out_has_video = True
                    flags[1] = keyframe  # the cluster is a sync point from this piece on
                self.last_time = absolute
                new_relative = absolute - self._out_cluster_time
                if new_relative == relative:
                    parts.append(view[pos:element_end])
                else:
                    parts += (
                        view[pos:timecode_at],
                        new_relative.to_bytes(2, "big", signed=True),
                        view[timecode_at + 2 : element_end],
                    )
            # Anything else (Position, PrevSize, Void, CRC-32, Cues, Tags…) is left out.
            pos = element_end
        if flags is not None and parts:
            out.append(_piece(parts, flags))

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


def _piece(parts: list[bytes | memoryview], flags: list[bool]) -> Piece:
    cluster_start, sync = flags
    return Piece(b"".join(parts), cluster_start=cluster_start, sync=sync)
