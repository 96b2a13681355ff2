"""AIMD rate control driven by the delay detector (draft-ietf-rmcat-gcc-02 §5.5).

States: Hold, Increase, Decrease. Overuse → Decrease (once, then Hold);
normal → Increase (from Hold); underuse → Hold (a queue is draining: let it).
The increase is multiplicative (8 %/s) while the link's capacity is unknown
or the estimate is far above where it last broke, and additive (about one
packet per response time) near that capacity, so the estimate creeps up to
a known limit instead of overshooting it every few seconds. A decrease goes
to 0.85 × what the receiver actually acknowledged, and records that rate as
a capacity sample. An overuse the caller calls transient (the link
delivered what we sent and no queue stands: an SFU is mostly
application-limited, and a burst — a keyframe, a layer switch — queued for
a moment above an average that fits) only holds: cutting to 0.85 × an
application-limited rate would throw a good estimate away, and with it a
layer that fits. Increases never take the estimate beyond 1.5 × the
acknowledged rate, nor, for a while, beyond what a probe saw the link
saturate at: with no evidence that the link carries more, only a probe may
jump higher.
"""

from __future__ import annotations

import math

from roomtone.sfu.bandwidth.delay import Usage

BETA = 0.85
CEILING_TIME = 10.0  # seconds a saturated probe's rate caps increases
INCREASE_PER_SECOND = 1.08


class LinkCapacity:
    """Where overuse happened: a running mean of the acknowledged rate at decreases."""

    def __init__(self) -> None:
        self.mean: float | None = None
        self._relative_var = 0.0

    def on_overuse(self, acked: float) -> None:
        if self.mean is not None and acked < self.lower():
            self.mean = None  # far below what we knew: the link changed
        if self.mean is None:
            self.mean = acked
            self._relative_var = 0.0025
            return
        error = acked / self.mean - 1
        self.mean = 0.95 * self.mean + 0.05 * acked
        self._relative_var = 0.95 * self._relative_var + 0.05 * error * error

    def deviation(self) -> float:
        assert self.mean is not None
        return self.mean * min(max(math.sqrt(self._relative_var), 0.03), 0.2)

    def upper(self) -> float:
        return float("inf") if self.mean is None else self.mean + 3 * self.deviation()

    def lower(self) -> float:
        return 0.0 if self.mean is None else self.mean - 3 * self.deviation()

    def reset(self) -> None:
        self.mean = None


class AimdRateControl:
    """The delay-based estimate (bits/s)."""

    def __init__(self, start: float, min_rate: float, max_rate: float) -> None:
        self.estimate = start
        self.min_rate = min_rate
        self.max_rate = max_rate
        self.capacity = LinkCapacity()
        self.rtt = 0.1
        self.increasing = False  # the Increase state (else Hold)
        self._last_update: float | None = None
        self._last_decrease: float | None = None
        self._ceiling: tuple[float, float] | None = None  # (until, rate) from a saturated probe

    def update(
        self, usage: Usage, acked: float | None, now: float, transient: bool = False
    ) -> float:
        """Apply one detector signal; `acked` is the acknowledged bitrate if known.

        `transient`: the overuse is a burst over an average the link carries (the
        caller saw it deliver what we sent, with no standing queue): hold, don't cut.
        """
        elapsed = 0.0 if self._last_update is None else min(max(now - self._last_update, 0), 1)
        self._last_update = now
        if usage is Usage.OVERUSE:
            self.increasing = False
            if not transient:
                self._decrease(acked, now)
        elif usage is Usage.UNDERUSE:
            self.increasing = False
        elif not self.increasing:
            self.increasing = True  # Hold → Increase; the first step waits for the next signal
        else:
            self._increase(acked, elapsed, now)
        return self.estimate

    def set_estimate(self, rate: float, now: float) -> None:
        """A probe measured the link carrying `rate`."""
        self.estimate = min(max(rate, self.min_rate), self.max_rate)
        self._last_update = now
        if self._ceiling is not None and rate > self._ceiling[1]:
            self._ceiling = None

    def set_ceiling(self, rate: float, now: float) -> None:
        """A probe saturated the link at `rate`: no increase beyond it for a while."""
        self._ceiling = (now + CEILING_TIME, rate)

    def _decrease(self, acked: float | None, now: float) -> None:
        if acked is not None and acked < 0.5 * self.estimate:
            pass  # far above what gets through: cut now, whatever the timing
        elif self._last_decrease is not None and now - self._last_decrease < self._decrease_gap():
            return  # the last cut has not had time to show in the feedback yet
        self._last_decrease = now
        if acked is None:
            target = self.estimate * BETA
        else:
            target = min(BETA * acked, self.estimate)
            self.capacity.on_overuse(acked)
        self.estimate = max(target, self.min_rate)

    def _decrease_gap(self) -> float:
        return min(max(self.rtt, 0.01), 0.2) + 0.1

    def _increase(self, acked: float | None, elapsed: float, now: float) -> None:
        if self.estimate > self.capacity.upper():
            self.capacity.reset()  # above anything seen: the link got better
        if self.capacity.mean is None:
            grown = self.estimate * INCREASE_PER_SECOND**elapsed
        else:
            grown = self.estimate + self._additive_rate() * elapsed
        limit = None if acked is None else 1.5 * acked + 10_000
        if self._ceiling is not None:
            until, ceiling = self._ceiling
            if now < until:
                limit = ceiling if limit is None else min(limit, ceiling)
            else:
                self._ceiling = None
        if limit is not None:
            grown = min(grown, max(limit, self.estimate))
        self.estimate = min(max(grown, self.min_rate), self.max_rate)

    def _additive_rate(self) -> float:
        """About one average packet per response time (bits/s per second)."""
        bits_per_frame = self.estimate / 30
        packets_per_frame = math.ceil(bits_per_frame / (1200 * 8))
        packet_bits = bits_per_frame / packets_per_frame
        response_time = self.rtt + 0.1
        return max(4000.0, packet_bits / response_time)
