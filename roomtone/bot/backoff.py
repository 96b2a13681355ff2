"""Exponential backoff with jitter, shared by every loop that talks to the network.

Telegram and the call server both go away now and then (deploys, 502s from a
proxy, DNS hiccups). Every loop in the bot retries forever with growing,
randomised delays capped at 30 s, so an outage never ends the process and a
fleet of bots does not hammer the API in lockstep when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

CAP_SECONDS = 30.0


class Backoff:
    """Delays of base·2ⁿ, capped, each scaled by a random factor in [0.5, 1]."""

    def __init__(self, base: float = 1.0, cap: float = CAP_SECONDS) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 16)))
        self.failures += 1
        return ceiling * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile (so loops end promptly)."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
