"""Token buckets for per-socket and per-address limits.

A real call never comes near the defaults; the limits exist so one abusive
or broken client cannot flood the room or the log. Brief bursts pass (the
bucket's depth); only a sustained excess gets a socket closed.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBucket:
    """`rate` units per second, up to `burst` saved up."""

    __slots__ = ("_level", "_stamp", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._level = burst
        self._stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self._level = min(self.burst, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, amount: float = 1.0, now: float | None = None) -> bool:
        """Take `amount` if it is there; otherwise take nothing."""
        self._refill(time.monotonic() if now is None else now)
        if self._level >= amount:
            self._level -= amount
            return True
        return False

    def charge(self, amount: float, now: float | None = None) -> float:
        """Take `amount` even into debt; returns the level (negative: in debt)."""
        self._refill(time.monotonic() if now is None else now)
        self._level -= amount
        return self._level


class _Warns:
    """At most one warning a second, so the warnings themselves cannot flood."""

    __slots__ = ("_last_warning",)

    def __init__(self) -> None:
        self._last_warning = -1e9

    def should_warn(self) -> bool:
        now = time.monotonic()
        if now - self._last_warning >= 1.0:
            self._last_warning = now
            return True
        return False


class SustainedLimit(_Warns):
    """A bucket that also tells when the excess has gone on for `patience` seconds.

    `check` answers "ok", "excess" (refuse this one, warn the client) or
    "close" (excess without a second's pause for `patience` s: disconnect).
    """

    __slots__ = ("_bucket", "_excess_since", "_last_excess", "patience")

    def __init__(self, rate: float, burst: float, patience: float = 3.0) -> None:
        super().__init__()
        self._bucket = TokenBucket(rate, burst)
        self.patience = patience
        self._excess_since = 0.0
        self._last_excess = -1e9

    def check(self, amount: float = 1.0) -> str:
        now = time.monotonic()
        if self._bucket.take(amount, now):
            return "ok"
        if now - self._last_excess > 1.0:
            self._excess_since = now  # a new episode of excess
        self._last_excess = now
        return "close" if now - self._excess_since >= self.patience else "excess"


class DebtLimit(_Warns):
    """For streams that must not lose bytes (a WebM stream with a gap is corrupt for every
    subscriber): excess is let through but recorded as debt, repaid at `rate`.

    `check` answers "ok", "excess" (in debt: warn) or "close" (the debt exceeds
    `patience` seconds' worth: the sender has been far above the rate for long).
    """

    __slots__ = ("_bucket", "_max_debt")

    def __init__(self, rate: float, burst: float, patience: float = 3.0) -> None:
        super().__init__()
        self._bucket = TokenBucket(rate, burst)
        self._max_debt = rate * patience

    def check(self, amount: float) -> str:
        level = self._bucket.charge(amount)
        if level >= 0:
            return "ok"
        return "close" if -level > self._max_debt else "excess"


class KeyedBuckets:
    """One bucket per key (e.g. client address), least recently used evicted past `capacity`."""

    def __init__(self, rate: float, burst: float, capacity: int = 10000) -> None:
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, amount: float = 1.0) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(amount)
