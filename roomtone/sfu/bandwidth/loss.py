"""The loss-based bound (draft-ietf-rmcat-gcc-02 §6): heavy loss cuts, light loss lets it recover.

Loss above 10 % cuts the bound to (1 − loss/2) × the current target, at
most once per RTT + 300 ms (time for the cut to show). Loss under 2 % lets
the bound grow 8 %/s, and once it is back at the delay-based estimate it
disappears (None: no bound), so later jumps of that estimate (probes) are
not held back. Between 2 and 10 % it holds: random loss of a few percent
(wifi, a lossy path) is not congestion and must not starve the call.
"""

from __future__ import annotations

HIGH_LOSS = 0.10
LOW_LOSS = 0.02
_GROWTH_PER_SECOND = 1.08


class LossBasedControl:
    def __init__(self, min_rate: float) -> None:
        self.bound: float | None = None
        self.last_fraction = 0.0
        self._min_rate = min_rate
        self._last_cut: float | None = None
        self._last_report: float | None = None

    def on_loss(
        self, fraction: float, now: float, *, target: float, delay_based: float, rtt: float
    ) -> None:
        """One loss measurement (0..1) over a window of packets."""
        elapsed = 0.0 if self._last_report is None else min(max(now - self._last_report, 0), 1)
        self._last_report = now
        self.last_fraction = fraction
        if fraction > HIGH_LOSS:
            if self._last_cut is None or now - self._last_cut >= rtt + 0.3:
                base = target if self.bound is None else min(self.bound, target)
                self.bound = max(self._min_rate, base * (1 - 0.5 * fraction))
                self._last_cut = now
        elif fraction < LOW_LOSS and self.bound is not None:
            self.bound = self.bound * _GROWTH_PER_SECOND**elapsed + 1000 * elapsed
            if self.bound >= delay_based:
                self.bound = None

    def on_probe(self, rate: float) -> None:
        """A probe got `rate` through: with little loss lately, the bound need not hold it back."""
        if self.bound is not None and self.last_fraction < LOW_LOSS:
            self.bound = max(self.bound, rate)
