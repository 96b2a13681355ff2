"""The loss-based bound (draft-ietf-rmcat-gcc-02 §6): heavy loss cuts, light loss lets it recover.

Loss above 10 % cuts the bound to (1 − loss/2) × the current target, at
most once per RTT + 300 ms (time for the cut to show), but never below
LINK_SHARE × what the receiver acknowledged meanwhile: when we overshoot a
link by far (it shrank under us), most of what we send is lost and the
rule alone would cut again and again, far below what the link plainly
carries. Loss under 2 % lets the bound grow 8 %/s, and once it is back at
the delay-based estimate it disappears (None: no bound), so later jumps of
that estimate (probes) are not held back.

Between 2 and 10 % it depends on the queue: random loss of a few percent
(wifi, a lossy path, the 2 % of the weak-link tests) comes without a
standing queue and is not congestion, so the bound grows as under 2 %;
with a standing queue the loss is the bottleneck's and the bound holds.
A bound that held at 2 % random loss would recover only in the windows
that happened to lose less, i.e. for tens of seconds after one overshoot.
"""

from __future__ import annotations

HIGH_LOSS = 0.10
LOW_LOSS = 0.02
LINK_SHARE = 0.9
_GROWTH_PER_SECOND = 1.08


class LossBasedControl:
    def __init__(self, min_rate: float) -> None:
        self.bound: float | None = None
        self.last_fraction = 0.0
        self._min_rate = min_rate
        self._last_cut: float | None = None
        self._last_report: float | None = None

    def on_loss(
        self,
        fraction: float,
        now: float,
        *,
        target: float,
        delay_based: float,
        rtt: float,
        acked: float | None = None,
        queued: bool = True,
    ) -> None:
        """One loss measurement (0..1) over a window of packets.

        `acked`: the receiver's acknowledged bitrate, if known; `queued`: a
        standing queue is seen at the bottleneck (or nothing tells it is not).
        """
        elapsed = 0.0 if self._last_report is None else min(max(now - self._last_report, 0), 1)
        self._last_report = now
        self.last_fraction = fraction
        if fraction > HIGH_LOSS:
            if self._last_cut is None or now - self._last_cut >= rtt + 0.3:
                base = target if self.bound is None else min(self.bound, target)
                cut = base * (1 - 0.5 * fraction)
                if acked is not None:
                    cut = max(cut, min(base, LINK_SHARE * acked))
                self.bound = max(self._min_rate, cut)
                self._last_cut = now
        elif (fraction < LOW_LOSS or not queued) and self.bound is not None:
            self.bound = self.bound * _GROWTH_PER_SECOND**elapsed + 1000 * elapsed
            if self.bound >= delay_based:
                self.bound = None

    def on_probe(self, rate: float) -> None:
        """A probe got `rate` through: with little loss lately, the bound need not hold it back."""
        if self.bound is not None and self.last_fraction < HIGH_LOSS:
            self.bound = max(self.bound, rate)
