"""Delay-gradient congestion detection (draft-ietf-rmcat-gcc-02 §5, with a trendline filter).

A bottleneck's queue shows up before any loss: packets sent at a steady
pace arrive further and further apart. Packets are grouped into bursts by
send time (a pacer burst or a frame: 5 ms), and each pair of consecutive
groups gives a delay variation d = (arrival gap) − (send gap). The
trendline filter fits a line through the smoothed accumulated d over the
last groups; its slope, scaled, is compared against an adaptive threshold:
above for a while and growing → overuse, below its negative → underuse
(a queue draining), otherwise normal. The threshold adapts to the signal
so that a competing loss-based flow (TCP) does not starve us and noise
does not trigger decreases. Times are seconds in, milliseconds inside
(the constants are tuned in ms).
"""

from __future__ import annotations

import enum
from collections import deque


class Usage(enum.Enum):
    NORMAL = "normal"
    OVERUSE = "overuse"
    UNDERUSE = "underuse"


GROUP_SPAN = 0.005  # packets sent within 5 ms of a group's first form one group
_BURST_ARRIVAL = 0.005  # ...as do packets arriving in a burst behind it
_MAX_BURST = 0.1  # a burst group spans at most this much arrival time
_MAX_ARRIVAL_GAP = 3.0  # a longer silence restarts the grouping


class _Group:
    __slots__ = ("first_arrival", "first_send", "last_arrival", "last_send", "size")

    def __init__(self, send: float, arrival: float, size: int) -> None:
        self.first_send = send
        self.last_send = send
        self.first_arrival = arrival
        self.last_arrival = arrival
        self.size = size


class InterArrival:
    """Groups packets (in send order) and yields (send gap, arrival gap) between groups."""

    def __init__(self) -> None:
        self._current: _Group | None = None
        self._previous: _Group | None = None

    def add(self, send: float, arrival: float, size: int) -> tuple[float, float] | None:
        current = self._current
        if current is None:
            self._current = _Group(send, arrival, size)
            return None
        if send < current.first_send:
            return None  # reordered in send time: drop rather than corrupt the group
        if self._belongs(current, send, arrival):
            current.last_send = max(current.last_send, send)
            current.last_arrival = max(current.last_arrival, arrival)
            current.size += size
            return None
        deltas = None
        previous = self._previous
        if previous is not None:
            send_gap = current.last_send - previous.last_send
            arrival_gap = current.last_arrival - previous.last_arrival
            if 0 <= arrival_gap <= _MAX_ARRIVAL_GAP:
                deltas = (send_gap, arrival_gap)
            # else: reordered across groups, or a long pause: this pair says nothing
        self._previous = current
        self._current = _Group(send, arrival, size)
        return deltas

    @staticmethod
    def _belongs(group: _Group, send: float, arrival: float) -> bool:
        if send - group.first_send <= GROUP_SPAN:
            return True
        # A burst: arrives right behind the group, sooner than it was sent after it
        # (it queued behind the group somewhere), so the queue says nothing new.
        arrival_gap = arrival - group.last_arrival
        return (
            0 <= arrival_gap < _BURST_ARRIVAL
            and arrival_gap < send - group.last_send
            and arrival - group.first_arrival < _MAX_BURST
        )


class TrendlineFilter:
    """Slope of the smoothed accumulated delay over the last `window` groups."""

    def __init__(self, window: int = 20, smoothing: float = 0.9, gain: float = 4.0) -> None:
        self._points: deque[tuple[float, float]] = deque(maxlen=window)
        self._smoothing = smoothing
        self._gain = gain
        self._accumulated = 0.0
        self._smoothed = 0.0
        self._origin: float | None = None
        self.trend = 0.0
        self.deltas = 0

    def update(self, delay_ms: float, arrival_ms: float) -> float:
        """Add one group's delay variation; return the scaled trend the detector compares."""
        if self._origin is None:
            self._origin = arrival_ms
        self.deltas = min(self.deltas + 1, 1000)
        self._accumulated += delay_ms
        alpha = self._smoothing
        self._smoothed = alpha * self._smoothed + (1 - alpha) * self._accumulated
        self._points.append((arrival_ms - self._origin, self._smoothed))
        if len(self._points) == self._points.maxlen:
            slope = _slope(self._points)
            if slope is not None:
                self.trend = slope
        return min(self.deltas, 60) * self.trend * self._gain


def _slope(points: deque[tuple[float, float]]) -> float | None:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return num / den if den > 0 else None


class OveruseDetector:
    """Compares the scaled trend to a threshold that follows it (slowly up, faster down)."""

    INITIAL_THRESHOLD = 12.5
    OVERUSE_TIME_MS = 10.0
    K_UP = 0.0087  # threshold gain while |trend| is above it
    K_DOWN = 0.039  # ...and while below
    _MAX_JUMP = 15.0  # a spike this far above the threshold does not move it

    def __init__(self) -> None:
        self.threshold = self.INITIAL_THRESHOLD
        self.usage = Usage.NORMAL
        self._last_update_ms: float | None = None
        self._time_over = -1.0
        self._count_over = 0
        self._previous_trend = 0.0

    def detect(self, scaled: float, trend: float, send_gap_ms: float, now_ms: float) -> Usage:
        if scaled > self.threshold:
            if self._time_over < 0:
                self._time_over = send_gap_ms / 2  # assume it started halfway
            else:
                self._time_over += send_gap_ms
            self._count_over += 1
            if (
                self._time_over > self.OVERUSE_TIME_MS
                and self._count_over > 1
                and trend >= self._previous_trend
            ):
                self._time_over = 0.0
                self._count_over = 0
                self.usage = Usage.OVERUSE
        elif scaled < -self.threshold:
            self._time_over = -1.0
            self._count_over = 0
            self.usage = Usage.UNDERUSE
        else:
            self._time_over = -1.0
            self._count_over = 0
            self.usage = Usage.NORMAL
        self._previous_trend = trend
        self._adapt(scaled, now_ms)
        return self.usage

    def _adapt(self, scaled: float, now_ms: float) -> None:
        last = self._last_update_ms
        self._last_update_ms = now_ms
        if last is None or abs(scaled) > self.threshold + self._MAX_JUMP:
            return
        k = self.K_DOWN if abs(scaled) < self.threshold else self.K_UP
        elapsed = min(max(now_ms - last, 0.0), 100.0)
        self.threshold += k * (abs(scaled) - self.threshold) * elapsed
        self.threshold = min(max(self.threshold, 6.0), 600.0)


class DelayDetector:
    """The three stages in one: feed received packets in send order, read `usage`.

    `overuse_seen` stays set from the first overuse until `take_overuse()`,
    so a caller that samples once per feedback does not miss a short one.
    """

    def __init__(self) -> None:
        self._arrival = InterArrival()
        self._trendline = TrendlineFilter()
        self._detector = OveruseDetector()
        self.usage = Usage.NORMAL
        self.overuse_seen = False

    def on_packet(self, send: float, arrival: float, size: int) -> None:
        deltas = self._arrival.add(send, arrival, size)
        if deltas is None:
            return
        send_gap, arrival_gap = deltas
        scaled = self._trendline.update((arrival_gap - send_gap) * 1000.0, arrival * 1000.0)
        if self._trendline.deltas < 2:
            return
        self.usage = self._detector.detect(
            scaled, self._trendline.trend, send_gap * 1000.0, arrival * 1000.0
        )
        if self.usage is Usage.OVERUSE:
            self.overuse_seen = True

    def take_overuse(self) -> bool:
        """Whether an overuse was detected since the last call."""
        seen = self.overuse_seen
        self.overuse_seen = False
        return seen

    @property
    def threshold(self) -> float:
        return self._detector.threshold


class StandingQueue:
    """How much longer than usual packets take: the standing queue at the bottleneck.

    Fed once per feedback with the smallest one-way delay (arrival − send,
    in two unsynchronized clocks: only differences mean anything) among that
    feedback's packets; the smallest is what every packet waited, a burst
    does not count. The baseline is the minimum over the last `window`
    seconds, so clock drift and route changes age out.
    """

    def __init__(self, window: float = 10.0) -> None:
        self._window = window
        self._minimums: deque[tuple[int, float]] = deque()  # (second, lowest delay)
        self.delay = 0.0

    def update(self, one_way: float, now: float) -> float:
        second = int(now)
        minimums = self._minimums
        if minimums and minimums[-1][0] == second:
            if one_way < minimums[-1][1]:
                minimums[-1] = (second, one_way)
        else:
            minimums.append((second, one_way))
        while minimums and minimums[0][0] <= second - self._window:
            minimums.popleft()
        self.delay = max(one_way - min(low for _, low in minimums), 0.0)
        return self.delay
