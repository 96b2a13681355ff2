"""The `entropy` keepalive: random-sized random bytes at random intervals.

Idle reverse proxies close quiet WebSockets, and constant-rate traffic would
reveal when a participant is silent; random noise every 1.5–3.5 s does neither.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
from collections.abc import Callable

from roomtone.protocol import ENTROPY

MIN_INTERVAL, MAX_INTERVAL = 1.5, 3.5
MIN_BYTES, MAX_BYTES = 128, 1024


def entropy_message() -> dict:
    size = random.randint(MIN_BYTES, MAX_BYTES)
    return {"type": ENTROPY, "bytes": size, "data": base64.b64encode(os.urandom(size)).decode()}


class Keepalive:
    """Calls `send(message)` at random intervals until stopped; timers, not a task per socket."""

    def __init__(self, send: Callable[[dict], None]) -> None:
        self._send = send
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        delay = random.uniform(MIN_INTERVAL, MAX_INTERVAL)
        self._handle = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._send(entropy_message())
        self.start()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
