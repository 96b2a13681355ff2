"""Delivery samples shared by every synthetic participant of one run.

Participants only append numbers to flat arrays (no objects, no JSON per
chunk or frame) so measuring stays cheap; windows and percentiles are computed
once, after the run.
"""

from __future__ import annotations

import bisect
import collections
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ERROR_KINDS = 20


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile of sorted `values` (fraction in [0, 1]); None if empty."""
    if not values:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within [0, 1]")
    rank = fraction * (len(values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


@dataclass(frozen=True)
class WindowStats:
    """What was delivered of the media sent within one time window."""

    start: float
    end: float
    participants: int
    expected: float  # deliveries a perfect server would make (units x recipients)
    delivered: int
    latencies_ms: tuple[float, ...]  # sorted

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def ratio(self) -> float | None:
        return self.delivered / self.expected if self.expected > 0 else None

    def latency(self, fraction: float) -> float | None:
        return percentile(self.latencies_ms, fraction)


class Metrics:
    """Append-only samples: (send time, latency) per delivered unit, plus counters.

    A unit is a chunk in WS mode and a video frame in WebRTC/SFU modes. Times
    are `time.perf_counter()` seconds of this process.
    """

    def __init__(self) -> None:
        self._sent_at = array("d")
        self._latency = array("d")
        self._sorted = True
        self.delivered_bytes = 0
        self.delivered_units = 0
        self.audio_frames = 0
        self.errors: collections.Counter[str] = collections.Counter()

    def delivered(self, sent_at: float, now: float) -> None:
        if self._sent_at and sent_at < self._sent_at[-1]:
            self._sorted = False
        self._sent_at.append(sent_at)
        self._latency.append(now - sent_at)
        self.delivered_units += 1

    def error(self, message: str) -> None:
        """Count an error; distinct messages beyond a few are folded into one bucket."""
        if message not in self.errors and len(self.errors) >= MAX_ERROR_KINDS:
            message = "other errors"
        self.errors[message] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def _ordered(self) -> tuple[Sequence[float], Sequence[float]]:
        if not self._sorted:
            pairs = sorted(zip(self._sent_at, self._latency, strict=True))
            self._sent_at = array("d", (p[0] for p in pairs))
            self._latency = array("d", (p[1] for p in pairs))
            self._sorted = True
        return self._sent_at, self._latency

    def window(
        self, start: float, end: float, participants: int, units_per_second: float
    ) -> WindowStats:
        """Deliveries of units sent in [start, end) with `participants` in the room.

        Every participant publishes `units_per_second` and each unit should
        reach every other participant.
        """
        sent_at, latency = self._ordered()
        first = bisect.bisect_left(sent_at, start)
        last = bisect.bisect_left(sent_at, end)
        samples = sorted(latency[i] * 1000.0 for i in range(first, last))
        expected = max(0.0, end - start) * units_per_second * participants * (participants - 1)
        return WindowStats(start, end, participants, expected, last - first, tuple(samples))

    def recent_latency_ms(self, count: int = 200) -> float | None:
        """Median latency of the last deliveries, for the progress line."""
        tail = sorted(self._latency[-count:])
        value = percentile(tail, 0.5)
        return None if value is None else value * 1000.0
