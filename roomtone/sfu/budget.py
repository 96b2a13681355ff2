"""Stand-ins for the bandwidth package (roomtone/sfu/bandwidth/, SFU_V2.md) until it lands:
a loss-based estimate and a simple layer allocator, behind the interfaces the downlink uses.

`LossEstimate` is the loss-based half of Google congestion control: it starts
high, drops when receiver reports show more than 10% loss, creeps back up
while loss stays under 2%, and decays when the subscriber stops sending any
feedback, so a silent subscriber is not sent more and more. REMB is not used
as a rate: without probing it only tracks what the subscriber already gets
(aiortc's estimate lags far behind at the start). `LayerAllocator`: every
line at its lowest layer first, then upgrades while the budget holds, with
hysteresis.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

INITIAL_ESTIMATE = 2_500_000  # bits/s before any feedback
MAX_ESTIMATE = 10_000_000
MIN_ESTIMATE = 30_000
SILENCE = 3.0  # seconds without feedback before the estimate starts to decay
DECAY_PER_SECOND = 0.7


class LossEstimate:
    """BandwidthEstimator stand-in (same methods; only loss and silence move it)."""

    def __init__(self, now: float) -> None:
        self._estimate = float(INITIAL_ESTIMATE)
        self._heard = now

    def on_sent(self, transport_seq: int, size: int, now: float, probe_cluster: int | None) -> None:
        """Transport-wide CC is not estimated here."""

    def on_feedback(self, feedback: object, now: float) -> None:
        self._heard = now

    def on_remb(self, bitrate: float, now: float) -> None:
        self._heard = now

    def on_loss_report(self, fraction_lost: float, now: float) -> None:
        self._heard = now
        if fraction_lost > 0.1:
            self._estimate *= 1 - 0.5 * fraction_lost
        elif fraction_lost < 0.02:
            self._estimate *= 1.08
        self._estimate = min(MAX_ESTIMATE, max(MIN_ESTIMATE, self._estimate))

    def target_at(self, now: float) -> float:
        quiet = now - self._heard
        decay = DECAY_PER_SECOND ** (quiet - SILENCE) if quiet > SILENCE else 1.0
        return max(MIN_ESTIMATE, self._estimate * decay)


UP_MARGIN = 1.2  # a higher layer (or a resume) must fit this many times over…
UP_HOLD = 2.0  # …for this long before a line goes up


class LayerAllocator:
    """Allocator stand-in: per line, a layer index or None (paused).

    Every line gets its lowest layer before any goes higher; a line goes up
    (or resumes) only after the higher layer has fitted with a margin for
    UP_HOLD seconds, and down as soon as its layer no longer fits. A line
    that never had a layer gets what fits at once.
    """

    def __init__(self) -> None:
        self._placed: set[Hashable] = set()  # lines that have had a layer
        self._holding: dict[Hashable, tuple[int, float]] = {}  # key → (layer, fits since)
        self._touched: set[Hashable] = set()

    def allocate(
        self,
        budget: float,
        lines: Mapping[Hashable, list[tuple[int, float]]],
        current: Mapping[Hashable, int | None],
        now: float,
    ) -> dict[Hashable, int | None]:
        """`lines`: per line its available (layer, bits/s), lowest first; `current`: its layer."""
        self._touched = set()
        index: dict[Hashable, int] = {}
        spent = 0.0
        for key, layers in lines.items():  # everyone's lowest layer first
            if not layers:
                continue
            cost = layers[0][1]
            if self._going_up(key, layers[0][0], current):
                if spent + cost * UP_MARGIN > budget or not self._held(key, layers[0][0], now):
                    continue
            elif spent + cost > budget:
                continue
            index[key] = 0
            spent += cost
        progress = True
        while progress:  # then one step up at a time, round-robin
            progress = False
            for key, i in list(index.items()):
                layers = lines[key]
                if i + 1 >= len(layers):
                    continue
                layer, cost = layers[i + 1][0], layers[i + 1][1] - layers[i][1]
                if self._going_up(key, layer, current):
                    if spent + cost * UP_MARGIN > budget or not self._held(key, layer, now):
                        continue
                elif spent + cost > budget:
                    continue
                index[key] = i + 1
                spent += cost
                progress = True
        self._placed = {key for key in lines if key in self._placed or key in index}
        self._holding = {k: v for k, v in self._holding.items() if k in self._touched}
        return {key: lines[key][index[key]][0] if key in index else None for key in lines}

    def _going_up(self, key: Hashable, layer: int, current: Mapping[Hashable, int | None]) -> bool:
        if key not in self._placed:
            return False  # a line that never had a layer starts with what fits
        now_at = current.get(key)
        return now_at is None or layer > now_at

    def _held(self, key: Hashable, layer: int, now: float) -> bool:
        self._touched.add(key)
        holding = self._holding.get(key)
        if holding is None or holding[0] != layer:
            self._holding[key] = (layer, now)
            return False
        return now - holding[1] >= UP_HOLD
