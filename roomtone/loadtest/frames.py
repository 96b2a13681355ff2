"""Which frame of the load test's endless WebM stream a received block is.

Every ws participant publishes the same stream (webm.py: the init segment, then
loop 0, 1, 2… of one recording, each loop's cluster times moved a loop length
forward). A server may regroup that stream and rewrite its Cluster headers and
relative timecodes, but not a frame's track, absolute time or bytes. So a
receiver names a frame by (track, absolute time), and this index turns that
into the frame's ordinal in the stream, where its element ends in the stream
as published (to find the chunk that carried it), and the bytes it must have
(to tell corrupt media from good).
"""

from __future__ import annotations

from array import array

from roomtone.loadtest.webm import CLUSTER_HEADER, STAMP_BYTES, Recording, WebmError, elements

SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1


class FrameIndex:
    """Frames of one loop of a recording, and the arithmetic that extends them to every loop."""

    def __init__(self, rec: Recording) -> None:
        self.loop_ms = rec.loop_ms
        self.init_bytes = len(rec.init)
        keys: dict[tuple[int, int], int] = {}
        ends = array("q")  # where each frame's element ends within the loop
        data: list[bytes] = []
        pos = 0
        for timecode, body in rec.clusters:
            pos += len(CLUSTER_HEADER) + STAMP_BYTES
            for element_id, _, start, end in elements(body, 0, len(body)):
                if element_id not in (SIMPLE_BLOCK, BLOCK_GROUP):
                    continue
                track, relative, frame = _block(body, element_id, start, end)
                key = (track, timecode + relative)
                if key in keys:
                    raise WebmError(f"two frames of track {track} at {key[1]} ms")
                keys[key] = len(ends)
                ends.append(pos + end)
                data.append(frame)
            pos += len(body)
        if not keys:
            raise WebmError("no frames")
        self.loop_bytes = pos
        self.low = min(time for _, time in keys)
        if max(time for _, time in keys) - self.low >= 2 * self.loop_ms:
            raise WebmError("frames spread over more than two loop lengths")
        for track, time in keys:
            if (track, time + self.loop_ms) in keys:
                raise WebmError(f"frames of track {track} repeat within a loop")
        self._keys = keys
        self._ends = ends
        self._data = data
        self.count = len(ends)  # frames per loop

    def find(self, track: int, time: int) -> int | None:
        """The ordinal in the stream of the frame at (track, absolute time), or None."""
        loop = (time - self.low) // self.loop_ms
        # A frame can lie up to a loop length past its loop's start (audio runs over).
        for candidate in (loop, loop - 1):
            if candidate >= 0:
                index = self._keys.get((track, time - candidate * self.loop_ms))
                if index is not None:
                    return candidate * self.count + index
        return None

    def end(self, ordinal: int) -> int:
        """Stream offset just after the frame's element, in the stream as published."""
        loop, index = divmod(ordinal, self.count)
        return self.init_bytes + loop * self.loop_bytes + self._ends[index]

    def data(self, ordinal: int) -> bytes:
        """The frame's bytes from its flags byte on (what blocks.Frame.data holds)."""
        return self._data[ordinal % self.count]


def _block(body: bytes, element_id: int, start: int, end: int) -> tuple[int, int, bytes]:
    """(track, relative timecode, flags and frame) of a SimpleBlock or BlockGroup."""
    if element_id == BLOCK_GROUP:
        found = [(s, e) for child, _, s, e in elements(body, start, end) if child == BLOCK]
        if not found:
            raise WebmError("BlockGroup without a Block")
        start, end = found[0]
    first = body[start]
    length = 9 - first.bit_length()
    track = int.from_bytes(body[start : start + length], "big") ^ (1 << (7 * length))
    at = start + length
    relative = int.from_bytes(body[at : at + 2], "big", signed=True)
    return track, relative, body[at + 2 : end]
