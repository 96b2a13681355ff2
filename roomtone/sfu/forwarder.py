"""The fan-out: one Forwarder per published track, one SlotTrack per subscriber m-line.

The publisher's receiver hands each reassembled encoded frame to its
Forwarder (aiortc_adapter.tap_receiver), which passes the same object to every
attached SlotTrack; each SlotTrack is the track of one server→subscriber
RTCRtpSender. Once that sender runs, it binds a `send` function to the track
(aiortc_adapter.ForwardingSender) and each frame is packed and sent from this
call, with no queue or task switch; before that (and for any plain aiortc
sender) the track queues `OutFrame`s for `recv()`.

A SlotTrack outlives its source: when a publisher leaves, the subscriber's
m-line goes inactive and is later reused for another publisher of the same
kind, so SDP does not grow with every join. Timestamps are rebased on each
switch to keep the sender's RTP clock moving forward. forwarding.py wires
these into the media strategy PeerSession uses.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import NamedTuple

from aiortc import MediaStreamTrack

from roomtone.sfu.keyframes import is_vp8_keyframe
from roomtone.sfu.packetize import OutFrame

# Frames queued for a sender that is not running yet (or a plain aiortc sender
# that falls this far behind) are skipped ahead (video: to the next keyframe)
# rather than buffered: late media is useless in a call. A running forwarding
# sender is bound to the track and sends each frame at once, so never lags.
MAX_QUEUED = {"audio": 10, "video": 15}
# RTP clock step assumed between a source's last frame and the next one's first.
FRAME_STEP = {"audio": 960, "video": 3000}


class Frame(NamedTuple):
    data: bytes
    timestamp: int
    keyframe: bool


class Forwarder:
    """A publication's fan-out: hands each encoded frame to the subscribed slots."""

    def __init__(self, kind: str, request_keyframe: Callable[[], None]) -> None:
        self.kind = kind
        self.slots: list[SlotTrack] = []
        self._request_keyframe = request_keyframe
        self._video = kind == "video"

    # FrameSink (called by the receiver tap on the event loop, per frame)
    def on_frame(self, data: bytes, timestamp: int) -> None:
        if not data:
            return
        frame = Frame(data, timestamp, self._video and is_vp8_keyframe(data))
        for slot in self.slots:
            slot.feed(frame)

    def request_keyframe(self) -> None:
        """A subscriber needs a keyframe (it started, lagged, or lost one): ask the publisher."""
        if self._video:
            self._request_keyframe()

    def close(self) -> None:
        """Unpublished: stop feeding every slot (the publication may be published again)."""
        for slot in list(self.slots):
            slot.detach()


class SlotTrack(MediaStreamTrack):
    """The track behind one server→subscriber sender; its source can change."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.source: Forwarder | None = None
        self._video = kind == "video"
        self._queue: collections.deque[OutFrame] = collections.deque()
        self._limit = MAX_QUEUED[kind]
        self._step = FRAME_STEP[kind]
        self._waiter: asyncio.Future[None] | None = None
        self._need_keyframe = self._video
        self._offset: int | None = None
        self._last_pts: int | None = None
        self._send: Callable[[OutFrame], None] | None = None

    def bind(self, send: Callable[[OutFrame], None] | None) -> None:
        """Hand frames to `send` synchronously from now on (None: queue them for `recv`)."""
        self._send = send
        if send is not None:
            while self._queue and self._send is send:
                send(self._queue.popleft())

    def attach(self, source: Forwarder) -> None:
        """Start forwarding `source`; video waits for (and asks for) a keyframe."""
        self.detach()
        self.source = source
        source.slots.append(self)
        self._offset = None
        self._need_keyframe = self._video
        source.request_keyframe()

    def detach(self) -> None:
        if self.source is not None:
            if self in self.source.slots:
                self.source.slots.remove(self)
            self.source = None
        self._queue.clear()

    def feed(self, frame: Frame) -> None:
        """Hot path: send one frame, or queue it for the sender (no copy, no logging)."""
        if self._need_keyframe:
            if not frame.keyframe:
                if self.source is not None:
                    self.source.request_keyframe()
                return
            self._need_keyframe = False
        if self._offset is None:
            start = 0 if self._last_pts is None else self._last_pts + self._step
            self._offset = start - frame.timestamp
        pts = frame.timestamp + self._offset
        send = self._send
        if send is not None:
            self._last_pts = pts
            send(OutFrame(frame.data, pts))
            return
        queue = self._queue
        if len(queue) >= self._limit:
            queue.clear()
            if self._video:
                self._need_keyframe = True
                if self.source is not None:
                    self.source.request_keyframe()
                return
        self._last_pts = pts
        queue.append(OutFrame(frame.data, pts))
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def request_keyframe(self) -> None:
        """The subscriber sent a PLI/FIR for this m-line."""
        if self.source is not None:
            self.source.request_keyframe()

    async def recv(self) -> OutFrame:  # type: ignore[override]
        while not self._queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def stop(self) -> None:
        self.detach()
        super().stop()
