"""An incremental scanner that finds the frames (blocks) in a received WebM byte stream.

A ws receiver gets each publisher's stream as payloads cut anywhere, regrouped
at the server's will: whole elements, Cluster headers replaced and block
timecodes rewritten (our relay re-clusters), or the publisher's bytes verbatim
(the original server, which also starts a late joiner mid-stream, without the
init segment). What survives every such server is the frames: their track,
absolute time and bytes. This scanner recovers exactly those, in one pass,
holding back only an element cut off at the end of a payload.

It is deliberately flat: Segment and Cluster headers are stepped into (known or
unknown size alike), Cluster Timecodes are remembered, SimpleBlocks and
BlockGroups are read, and everything else (EBML header, Info, Tracks, Cues,
Void…) is skipped by its size without being buffered. Cluster children have
1-byte IDs and level-1 elements 4-byte IDs, so no nesting needs tracking.

A stream must start with the EBML header, and the init segment must be
followed by a Cluster. Otherwise the receiver joined mid-stream: the bytes
before the next Cluster header (its ID, a size, then a Timecode) cannot be
placed and are passed over (up to a bound: bytes that never reach a Cluster are
not WebM). Once in the clusters, bytes that do not parse are an error.
"""

from __future__ import annotations

from typing import NamedTuple

EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
# What may come before the first Cluster: EBML header, Segment and its level-1 elements.
INIT_IDS = frozenset(
    {
        EBML_HEADER,
        SEGMENT,
        CLUSTER,
        0x114D9B74,  # SeekHead
        0x1549A966,  # Info
        0x1654AE6B,  # Tracks
        0x1C53BB6B,  # Cues
        0x1043A770,  # Chapters
        0x1254C367,  # Tags
        0x1941A469,  # Attachments
        0xEC,  # Void
        0xBF,  # CRC-32
    }
)
INIT_ID_STARTS = frozenset(i.to_bytes((i.bit_length() + 7) // 8, "big")[0] for i in INIT_IDS)
EBML_HEADER_ID = EBML_HEADER.to_bytes(4, "big")
CLUSTER_ID = CLUSTER.to_bytes(4, "big")
# A frame bigger than this, or as many bytes without a Cluster, is garbage, not video.
MAX_ELEMENT_BYTES = 8 * 1024 * 1024

_START, _INIT, _SEEK, _MEDIA = range(4)


class ScanError(ValueError):
    """The bytes are not a WebM stream (or one this scanner can follow)."""


class Frame(NamedTuple):
    track: int
    time: int  # absolute: its Cluster's Timecode + its relative timecode (TimecodeScale units)
    data: bytes  # the block from its flags byte on: flags and frame, which no server rewrites


def _vint(buf: bytearray, pos: int, end: int) -> tuple[int, int] | None:
    """(value with its length marker, length) at `pos`, or None if cut off."""
    if pos >= end:
        return None
    first = buf[pos]
    if first & 0x80:
        return first, 1
    if first == 0:
        raise ScanError("invalid variable-length integer")
    length = 9 - first.bit_length()
    if pos + length > end:
        return None
    return int.from_bytes(buf[pos : pos + length], "big"), length


class BlockScanner:
    """Feed payloads in order; get back the frames they complete."""

    def __init__(self, max_element_bytes: int = MAX_ELEMENT_BYTES) -> None:
        self.max_element_bytes = max_element_bytes
        self._buf = bytearray()
        self._skip = 0  # bytes of a skipped element still to come
        self._cluster_time: int | None = None
        self._phase = _START
        self.passed_over = 0  # bytes that could not be placed (joined mid-stream)

    def feed(self, payload: bytes | memoryview) -> list[Frame]:
        """The frames completed by `payload`; raises ScanError on bytes that are not WebM."""
        if self._skip:
            if len(payload) <= self._skip:
                self._skip -= len(payload)
                return []
            payload = payload[self._skip :]
            self._skip = 0
        buf = self._buf
        buf += payload
        frames: list[Frame] = []
        end = len(buf)
        pos = 0
        while pos < end:
            if self._phase != _MEDIA and self._phase != _INIT:
                pos, ready = self._align(buf, pos, end)
                if not ready:  # undecided until more bytes come
                    break
            if self._phase == _INIT and buf[pos] not in INIT_ID_STARTS:
                self._phase = _SEEK  # the init segment is followed by the middle of a stream
                continue
            if buf[pos] < 0x10:
                raise ScanError("invalid element ID")
            id_vint = _vint(buf, pos, end)
            if id_vint is None:
                break
            element_id, id_length = id_vint
            size_vint = _vint(buf, pos + id_length, end)
            if size_vint is None:
                break
            if self._phase == _INIT and element_id not in INIT_IDS:
                self._phase = _SEEK
                continue
            marked, size_length = size_vint
            body = pos + id_length + size_length
            size = marked ^ (1 << (7 * size_length))  # drop the length marker
            if element_id == CLUSTER or element_id == SEGMENT:
                if element_id == CLUSTER:
                    self._cluster_time = None
                    self._phase = _MEDIA
                pos = body  # step in: its children follow
                continue
            if size == (1 << (7 * size_length)) - 1:
                raise ScanError(f"element 0x{element_id:X} of unknown size")
            if size > self.max_element_bytes:
                raise ScanError(f"element 0x{element_id:X} of {size} bytes")
            element_end = body + size
            if element_id == SIMPLE_BLOCK or element_id == BLOCK_GROUP or element_id == TIMECODE:
                if element_end > end:
                    break
                if element_id == TIMECODE:
                    self._cluster_time = int.from_bytes(buf[body:element_end], "big")
                else:
                    frames.append(self._frame(element_id, buf, body, element_end))
            elif element_end > end:  # skipped, so not buffered either
                self._skip = element_end - end
                pos = end
                break
            pos = element_end
        del buf[:pos]
        return frames

    def _align(self, buf: bytearray, pos: int, end: int) -> tuple[int, bool]:
        """(where scanning goes on, whether it can go on now): the EBML header at the start
        of a stream, else the next Cluster header. When the bytes so far cannot tell, the
        position is where to keep bytes from; the bytes before it are passed over."""
        if self._phase == _START:
            head = buf[pos : pos + 4]
            if head == EBML_HEADER_ID:
                self._phase = _INIT
                return pos, True
            if EBML_HEADER_ID.startswith(head):  # too short to tell
                return pos, False
            self._phase = _SEEK
        found = buf.find(CLUSTER_ID, pos)
        while found >= 0:
            verdict = _cluster_header_at(buf, found, end)
            if verdict is None:
                break
            if verdict:
                self.passed_over += found - pos
                self._phase = _MEDIA
                return found, True
            found = buf.find(CLUSTER_ID, found + 1)
        keep = found if found >= 0 else max(pos, end - len(CLUSTER_ID) + 1)
        self.passed_over += keep - pos
        if self.passed_over > self.max_element_bytes:  # a live stream has clusters every few s
            raise ScanError(f"no Cluster header in {self.passed_over} bytes")
        return keep, False

    def _frame(self, element_id: int, buf: bytearray, start: int, end: int) -> Frame:
        if self._cluster_time is None:
            raise ScanError("block outside a Cluster with a Timecode")
        if element_id == BLOCK_GROUP:
            start, end = _block_in_group(buf, start, end)
        track_vint = _vint(buf, start, end)
        if track_vint is None or start + track_vint[1] + 3 > end:
            raise ScanError("block too short for its header")
        marked, length = track_vint
        at = start + length
        relative = int.from_bytes(buf[at : at + 2], "big", signed=True)
        track = marked ^ (1 << (7 * length))
        return Frame(track, self._cluster_time + relative, bytes(buf[at + 2 : end]))


def _cluster_header_at(buf: bytearray, at: int, end: int) -> bool | None:
    """Is the Cluster ID at `at` a Cluster header: a valid size, then a Timecode?
    None if the bytes have not all come yet."""
    size_at = at + len(CLUSTER_ID)
    if size_at >= end:
        return None
    first = buf[size_at]
    if first == 0:
        return False
    after = size_at + 9 - first.bit_length()
    return None if after >= end else buf[after] == TIMECODE


def _block_in_group(buf: bytearray, start: int, end: int) -> tuple[int, int]:
    """(body start, body end) of the Block inside a BlockGroup's body."""
    pos = start
    while pos < end:
        id_vint = _vint(buf, pos, end)
        size_vint = None if id_vint is None else _vint(buf, pos + id_vint[1], end)
        if id_vint is None or size_vint is None:
            break
        body = pos + id_vint[1] + size_vint[1]
        child_end = body + (size_vint[0] ^ (1 << (7 * size_vint[1])))
        if child_end > end:
            break
        if id_vint[0] == BLOCK:
            return body, child_end
        pos = child_end
    raise ScanError("BlockGroup without a whole Block")
