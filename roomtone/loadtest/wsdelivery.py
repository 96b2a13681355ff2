"""WS-mode delivery accounting: which chunks a receiver's frames deliver, and when they were sent.

A publisher's side is a `Publication`, shared by every participant of the run:
per chunk, the stream offset where it ends and when it was sent. A receiver's
side is a `Follower` per publisher: it scans what arrives for frames
(blocks.py), names each one in the stream (frames.py), and credits chunks.

The unit is the chunk, as a MediaRecorder timeslice is; its latency runs from
its send to the arrival of its last byte's content at a receiver. That
content is the frame whose element holds the chunk's last byte, or the next
frame if that byte is in something a server may rewrite or drop (a Cluster
header or Timecode). So chunk k is delivered by the first frame whose element
ends at or after the chunk's end; frames that never arrive (a late joiner
starts at a sync point, or at the next Cluster if the server starts it
mid-stream; a lagging one skips ahead) leave the chunks they would have
delivered uncredited. Chunks sent before the receiver joined are
history it catches up on, not live delivery, and are not counted. A frame the
publisher did not send, or bytes that are not WebM, are an error.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable

from roomtone.loadtest.blocks import BlockScanner, ScanError
from roomtone.loadtest.frames import FrameIndex


class DeliveryError(ValueError):
    """A receiver got media its publisher did not send."""


class Publication:
    """What one publisher has sent: (end offset, send time) per chunk, the last few seconds."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self.sent_bytes = 0
        self.ends = array("q")
        self.times = array("d")
        self.index_base = 0  # chunk number of ends[0]

    def append(self, size: int, sent_at: float) -> None:
        self.sent_bytes += size
        self.ends.append(self.sent_bytes)
        self.times.append(sent_at)
        if sent_at - self.times[0] > 2 * self.keep_seconds:
            drop = bisect.bisect_left(self.times, sent_at - self.keep_seconds)
            del self.ends[:drop]
            del self.times[:drop]
            self.index_base += drop


class Follower:
    """One receiver's view of one publisher's stream, from a `media-start` (or its join) on."""

    def __init__(self, publication: Publication, frames: FrameIndex) -> None:
        self.publication = publication
        self.frames = frames
        self.scanner = BlockScanner()
        self.next_chunk = 0  # the first chunk neither credited nor skipped
        self.last: int | None = None  # ordinal of the newest frame received
        self.failed = False  # after an error, ignore the stream until it restarts

    def receive(
        self, payload: bytes | memoryview, now: float, since: float, record: Callable[..., None]
    ) -> None:
        """Credit the chunks `payload` delivers: `record(sent_at, now)` for those sent
        at or after `since`. Raises DeliveryError (once; the stream is then ignored)."""
        if self.failed:
            return
        try:
            received = self.scanner.feed(payload)
        except ScanError as exc:
            self.failed = True
            raise DeliveryError(f"received media is not a WebM stream ({exc})") from None
        if not received:
            return
        frames = self.frames
        last = self.last
        for frame in received:
            ordinal = frames.find(frame.track, frame.time)
            if ordinal is None or frame.data != frames.data(ordinal):
                self.failed = True
                raise DeliveryError("received media not found in the publisher's stream")
            if last is None or ordinal != last + 1:
                if last is not None and ordinal <= last:
                    self.failed = True
                    raise DeliveryError("received a frame twice or out of order")
                if last is not None:
                    self._credit(frames.end(last), now, since, record)
                if ordinal > 0:  # the frames before this one did not come: nor did their chunks
                    self._skip(frames.end(ordinal - 1))
            last = ordinal
        self.last = last
        self._credit(frames.end(last), now, since, record)

    def _skip(self, offset: int) -> None:
        """Chunks ending at or before `offset` will not be credited."""
        pub = self.publication
        skipped = pub.index_base + bisect.bisect_right(pub.ends, offset)
        self.next_chunk = max(self.next_chunk, skipped)

    def _credit(self, offset: int, now: float, since: float, record: Callable[..., None]) -> None:
        """Chunks ending at or before `offset` are delivered now."""
        pub = self.publication
        ends, times, base = pub.ends, pub.times, pub.index_base
        i = max(self.next_chunk, base) - base
        count = len(ends)
        while i < count and ends[i] <= offset:
            sent = times[i]
            if sent >= since:
                record(sent, now)
            i += 1
        self.next_chunk = base + i
