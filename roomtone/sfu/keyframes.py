"""Keyframe policy: recognising VP8 keyframes and rate-limiting PLIs per publisher.

A subscriber that starts (or restarts) a video stream can only decode from a
keyframe, so the forwarder holds back delta frames and asks the publisher for
one. Many subscribers, or one on a lossy link, can ask at once; a publisher
should still see at most one PLI per interval, and a request made inside the
interval is not lost but sent when it ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PLI_MIN_INTERVAL = 0.5  # seconds between PLIs to one publisher
_VP8_START_CODE = b"\x9d\x01\x2a"


def is_vp8_keyframe(frame: bytes) -> bool:
    """RFC 6386 §9.1: P bit (bit 0 of the first byte) is 0, then the start code."""
    return len(frame) >= 10 and not frame[0] & 0x01 and frame[3:6] == _VP8_START_CODE


class KeyframeRequester:
    """Calls `send` at most once per `interval`; a request made too early is deferred, once."""

    def __init__(
        self,
        send: Callable[[], None],
        interval: float = PLI_MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._deferred: asyncio.TimerHandle | None = None
        self.sent = 0

    def request(self) -> None:
        if self._deferred is not None:
            return
        now = self._clock()
        if self._last is None or now - self._last >= self._interval:
            self._fire()
            return
        delay = self._last + self._interval - now
        self._deferred = asyncio.get_running_loop().call_later(delay, self._fire_deferred)

    def _fire_deferred(self) -> None:
        self._deferred = None
        self._fire()

    def _fire(self) -> None:
        self._last = self._clock()
        self.sent += 1
        self._send()

    def cancel(self) -> None:
        """Drop a deferred request (the publication ended)."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
