"""A bitrate over a sliding time window (acknowledged throughput, incoming rate)."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Bits per second of what was added in the last `window` seconds.

    `rate(now)` is None until the samples span at least `min_span` (a rate
    over a few milliseconds says nothing) and after the window empties.
    """

    def __init__(self, window: float = 0.5, min_span: float = 0.1) -> None:
        self._window = window
        self._min_span = min_span
        self._samples: deque[tuple[float, int]] = deque()
        self._bytes = 0
        self._first: float | None = None

    def add(self, at: float, size: int) -> None:
        self._expire(at)
        if not self._samples:
            self._first = at
        self._samples.append((at, size))
        self._bytes += size

    def rate(self, now: float) -> float | None:
        self._expire(now)
        if not self._samples or self._first is None:
            return None
        span = min(now - self._first, self._window)
        if span < self._min_span:
            return None
        return self._bytes * 8 / span

    def _expire(self, now: float) -> None:
        samples = self._samples
        horizon = now - self._window
        while samples and samples[0][0] < horizon:
            self._bytes -= samples.popleft()[1]
        if not samples:
            self._first = None
