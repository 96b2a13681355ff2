"""One ordered send queue per WebSocket, drained by its own writer task.

Every message to a client goes through its outbox so that order is kept
(a late joiner's `welcome` precedes the media history it describes) and so
that a slow client only ever delays itself: producers never await a socket.
Media frames are counted per publisher so the WS relay can bound memory and
discard a subscriber's backlog; control messages are never dropped, but a
client that lets them pile up past a hard limit is disconnected.

Media goes in as complete WebSocket frames (wsframe.py), the same bytes for
every subscriber. With a FrameSink attached (a real socket), a frame is written
at once when nothing is queued ahead of it and the socket is not backed up:
the usual case costs one transport write, no queue entry and no task switch.
Otherwise it waits in the queue like everything else.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from roomtone.protocol import CLOSE_NOT_READING, Closing
from roomtone.wsframe import FrameSink, frame_payload

log = logging.getLogger(__name__)

# A client that stops reading accumulates keepalives and roster messages; past
# this it is considered gone.
MAX_CONTROL_BACKLOG = 2000


class Outbox:
    """Ordered queue of text and binary messages for one socket."""

    def __init__(
        self,
        send_text: Callable[[str], Awaitable[None]],
        send_bytes: Callable[[bytes], Awaitable[None]],
        close: Callable[[int, bytes], Awaitable[object]],
    ) -> None:
        self._send_text = send_text
        self._send_bytes = send_bytes
        self._close = close
        self._sink: FrameSink | None = None  # without one, frames go through send_bytes
        self._busy = False  # the writer holds an item it took off the queue
        # Items: (key, payload). key None → text; otherwise a binary frame keyed by publisher id.
        self._items: collections.deque[tuple[str | None, str | bytes]] = collections.deque()
        self._media_bytes: dict[str, int] = collections.defaultdict(int)
        self._control_count = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def attach(self, sink: FrameSink | None) -> None:
        """Write media frames straight to this socket (before `start`)."""
        self._sink = sink

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def closed(self) -> bool:
        return self._closed

    def media_bytes(self, key: str | None = None) -> int:
        """Queued binary bytes, for one publisher or in all."""
        if key is None:
            return sum(self._media_bytes.values())
        return self._media_bytes.get(key, 0)

    def send_json(self, message: dict) -> None:
        self.send_text(json.dumps(message, separators=(",", ":")))

    def send_text(self, text: str) -> None:
        if self._closed:
            return
        if self._control_count >= MAX_CONTROL_BACKLOG:
            log.warning("closing a client that stopped reading (%d queued)", self._control_count)
            self.close(CLOSE_NOT_READING)
            return
        self._control_count += 1
        self._items.append((None, text))
        self._wakeup.set()

    def send_binary(self, key: str, frame: bytes) -> None:
        """Send a binary frame (wsframe.binary_frame) of publisher `key`; the caller
        enforces bounds on what is queued."""
        if self._closed:
            return
        sink = self._sink
        if sink is not None and not self._items and not self._busy and not sink.paused:
            if not sink.closing:
                sink.write(frame)
            return
        self._media_bytes[key] += len(frame)
        self._items.append((key, frame))
        self._wakeup.set()

    def discard(self, key: str) -> int:
        """Drop every queued, unsent binary frame of publisher `key`; returns bytes dropped."""
        dropped = self._media_bytes.pop(key, 0)
        if dropped:
            self._items = collections.deque(item for item in self._items if item[0] != key)
        return dropped

    def close(self, closing: Closing) -> None:
        """Stop sending and close the socket once; queued messages are dropped."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        self._media_bytes.clear()
        self._wakeup.set()
        task = self._close_quietly(closing.code, closing.reason_bytes)
        asyncio.get_running_loop().create_task(task)

    async def _close_quietly(self, code: int, reason: bytes) -> None:
        with contextlib.suppress(Exception):
            await self._close(code, reason)

    async def flush_and_close(self, closing: Closing, grace: float = 1.0) -> None:
        """Send what is queued (for at most `grace` s), then close: for `Room is full.`."""
        if self._items and not self._closed:
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), grace)
        self.close(closing)

    async def stop(self) -> None:
        """Cancel the writer task (the socket is already gone)."""
        self._closed = True
        self._items.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _send_frame(self, frame: bytes) -> None:
        sink = self._sink
        if sink is None:
            await self._send_bytes(bytes(frame_payload(frame)))
            return
        if sink.paused:
            await sink.drain()
        if sink.closing:
            raise ConnectionResetError("socket closing")
        sink.write(frame)

    async def _run(self) -> None:
        try:
            while not self._closed:
                if not self._items:
                    self._drained.set()
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                key, payload = self._items.popleft()
                self._busy = True  # until it is written: a frame sent meanwhile must queue
                if key is None:
                    self._control_count -= 1
                    await self._send_text(payload)  # type: ignore[arg-type]
                else:
                    self._media_bytes[key] -= len(payload)
                    if self._media_bytes[key] <= 0:
                        del self._media_bytes[key]
                    await self._send_frame(payload)  # type: ignore[arg-type]
                self._busy = False
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            # The socket went away (or we were stopped); the reader side cleans up.
            self._closed = True
        except Exception:
            log.exception("outbox writer failed")
            self._closed = True
