"""Which simulcast layer each of one subscriber's video lines gets.

Input: the video budget (the estimate's target minus the audio being sent:
audio always goes first) and, per forwarded video line in priority order,
the publication's layers with their measured bitrates (None: not arriving
now). Output: per line a layer index, or None: paused.

Fairness: every line gets its lowest layer before any line goes higher;
then lines step up one layer at a time, round-robin, while the budget
lasts. A line whose lowest layer does not fit is paused; if any line is
paused, nobody goes above the lowest layer.

Hysteresis (layers must not flap; each switch costs a keyframe): a line
goes down, or pauses, at once when its layer no longer fits. It goes up only
after the budget has fit the higher layer with UP_MARGIN to spare for
UP_HOLD seconds, and resumes from a pause after RESUME_HOLD with
RESUME_MARGIN; both holds shrink to FAST_HOLD_SHARE when the budget covers
the step FAST_MARGIN times over (a limit lifted: the probes found a link far
above what is sent, and waiting the full holds put the subscriber back on the
top layer only after 12-16 s, traced in the browser test; a probe's swing
around a link that carries the step is well under 1.5×). An up-step or
resume that has to be taken back within FAILED_WITHIN seconds failed: the
estimate swings about its own margin (a probe through a bursty bottleneck,
the AIMD sawtooth), and trying again at
the same budget would fail the same way, so the line's holds double
(at most MAX_BACKOFF times) until an up-step sticks, or the budget grows
to RECOVERED × the one the failed step was taken at (the link got better).
A budget that falls below LINK_CHANGED × the one an up-step was taken at
says the link shrank (a limit was put on it), not that the step was too
bold: no backoff then, or the line would resume twice as slowly. The packet
path makes the switch at the target layer's next keyframe and asks for one.

A playing line pauses only when the lowest layers exceed the budget by
more than PAUSE_SLACK (it goes to its lowest layer otherwise): a pause costs
seconds of frozen picture and a keyframe, while a little too much makes a
queue the estimate then answers (and pauses for, if the link really is that
small). A single-layer publication has nothing lower to go to: its line went
from playing to paused whenever the estimate dipped a few percent below the
sum on a fat link. The resume margin keeps the two apart. Even then it
pauses only if that lasts PAUSE_HOLD, unless the lowest layers exceed the
budget PAUSE_AT_ONCE times over (a link cut far down: holding on would only
queue). On a link that carries one of two videos (the weak-link bench at
250 kbit/s, traced) the estimate dipped (a cut after a probe's or a
keyframe's queue) and paused the one that played; paused, it waited for a
budget 1.15 × its layer, while the estimate of that link with it paused
settles at 1.12-1.16 ×: it stood still three quarters of the time. Hence
the hold, and a resume margin of 1.05.

Lines that play come first when the budget is split, whatever their order:
a paused (or new) line never takes the place of a playing one (in the
lines' order, a paused first line took the only slot that fit from the
playing second one at once, then waited out its resume hold: both frozen).

A new line starts at once on what fits with margin; if nothing fits yet
(the estimate starts low, before the first probe has measured the link),
it starts as soon as its lowest layer fits, without the resume hold: it
never played, so there is nothing to flap, and nobody should join a call
and look at frozen tiles for seconds. Such a line counts as starting, not
paused (`Allocation.paused`, the subscriber's notice), for START_GRACE
seconds: a single-layer publication (a client that cannot simulcast, a
camera too small for several layers) sends one layer of a Mbit/s or more,
above the estimate's start, and the probes need a second or two to show a
good link carries it; a notice flashing on every new tile would be wrong.

`wanted_layers` sums up, over all subscribers' allocations, which layers
of each publication anyone receives or is about to (so the server can
tell the publisher to stop encoding the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

UP_MARGIN = 1.15
UP_HOLD = 2.5
RESUME_MARGIN = 1.05
RESUME_HOLD = 2.0
FAILED_WITHIN = 10.0  # seconds: an up-step taken back sooner failed
MAX_BACKOFF = 3  # holds double per failure, up to 2**this times
RECOVERED = 1.5  # a budget this many times the failed one forgets the failures
PAUSE_SLACK = 1.2  # a playing line pauses only when the lowest layers exceed the budget by more
PAUSE_HOLD = 2.0  # ...for this long (a dip of the estimate is not a pause)...
PAUSE_AT_ONCE = 2.0  # ...or at once when they exceed it this many times over
FAST_MARGIN = 1.5  # a budget this many times the step's cost...
FAST_HOLD_SHARE = 0.2  # ...shortens its hold to this share (a link that was lifted)
LINK_CHANGED = 0.5  # down below this share of an up-step's budget: the link shrank, no failure
START_GRACE = 3.0  # seconds a new line that fits nothing yet is starting, not paused
_UNKNOWN_LAYER_STEP = 3.0  # a layer never measured is guessed at 3× the one below


@dataclass(frozen=True, slots=True)
class Line:
    """One forwarded video line: its key (the m-line's mid), publication and layer bitrates."""

    key: str
    publication: str
    bitrates: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Choice:
    publication: str
    layer: int | None  # what the line receives (None: paused)
    desired: int | None  # what would fit now, ignoring hysteresis and whether it arrives
    starting: bool = False  # new, nothing fits yet, within START_GRACE: not (yet) paused


@dataclass(frozen=True, slots=True)
class Allocation:
    lines: dict[str, Choice]
    used: float  # bits/s of the chosen layers
    wanted: float  # bits/s if every line had its top arriving layer
    budget: float

    @property
    def layers(self) -> dict[str, int | None]:
        return {key: choice.layer for key, choice in self.lines.items()}

    @property
    def paused(self) -> frozenset[str]:
        return frozenset(
            key
            for key, choice in self.lines.items()
            if choice.layer is None and not choice.starting
        )

    @property
    def limited(self) -> bool:
        """The budget, not the layers on offer, keeps some line below its top layer."""
        return self.wanted > self.budget


@dataclass(slots=True)
class _State:
    layer: int | None
    appeared: float
    since: float | None = None  # when the budget started to fit a higher layer (or resuming)
    fresh: bool = True  # never had a layer yet
    raised_at: float | None = None  # the last up-step or resume, until it stuck
    backoff: int = 0  # failed up-steps in a row: holds × 2**backoff
    raised_budget: float = 0.0  # the budget the last up-step was taken at
    failed_budget: float = 0.0  # ...and that of the last one that failed
    short_since: float | None = None  # playing, and its lowest layer has not fit since


class Allocator:
    """Per subscriber; call `allocate` whenever the budget or the layers change (~10/s)."""

    def __init__(
        self,
        up_margin: float = UP_MARGIN,
        up_hold: float = UP_HOLD,
        resume_margin: float = RESUME_MARGIN,
        resume_hold: float = RESUME_HOLD,
    ) -> None:
        self.up_margin = up_margin
        self.up_hold = up_hold
        self.resume_margin = resume_margin
        self.resume_hold = resume_hold
        self._states: dict[str, _State] = {}
        self._known: dict[tuple[str, int], float] = {}  # last measured bitrate per layer

    def allocate(self, budget: float, lines: Sequence[Line], now: float) -> Allocation:
        rates = [list(line.bitrates) for line in lines]
        publications = {line.publication for line in lines}
        known = {key: rate for key, rate in self._known.items() if key[0] in publications}
        for line, layer_rates in zip(lines, rates, strict=True):
            for index, rate in enumerate(layer_rates):
                if rate is not None:
                    known[(line.publication, index)] = rate
        self._known = known
        # Lines playing now come first: a paused line never takes a playing one's place.
        playing = {key for key, state in self._states.items() if state.layer is not None}
        order = sorted(range(len(lines)), key=lambda i: lines[i].key not in playing)
        fit = _ordered(budget, rates, order)
        fit_up = _cap(_ordered(budget / self.up_margin, rates, order), fit)
        fit_resume = _cap(_ordered(budget / self.resume_margin, rates, order), fit)
        fit_keep = _ordered(budget * PAUSE_SLACK, rates, order)
        fit_now = _ordered(budget * PAUSE_AT_ONCE, rates, order)
        fit_fast = _cap(_ordered(budget / FAST_MARGIN, rates, order), fit)
        desired = _ordered(budget, [self._guess(line) for line in lines], order)
        states = {}
        choices = {}
        used = 0.0
        for i, line in enumerate(lines):
            state = self._states.get(line.key)
            if state is None:
                state = _State(fit_up[i], now)
                state.fresh = state.layer is None
            else:
                keep = self._keep(state, fit_keep[i], fit_now[i], now)
                fits = (fit[i], fit_up[i], fit_resume[i], fit_fast[i])
                self._step(state, *fits, keep, rates[i], budget, now)
            states[line.key] = state
            starting = state.fresh and now - state.appeared < START_GRACE
            choices[line.key] = Choice(line.publication, state.layer, desired[i], starting)
            if state.layer is not None:
                used += rates[i][state.layer] or 0.0
        self._states = states
        wanted = sum(_top(r) for r in rates)
        return Allocation(choices, used, wanted, budget)

    def _step(
        self,
        state: _State,
        fit: int | None,
        fit_up: int | None,
        fit_resume: int | None,
        fit_fast: int | None,
        keep: bool,
        rates: list[float | None],
        budget: float,
        now: float,
    ) -> None:
        if state.raised_at is not None and now - state.raised_at >= FAILED_WITHIN:
            state.raised_at = None  # the last up-step stuck
            state.backoff = max(state.backoff - 1, 0)
        if state.backoff and budget >= RECOVERED * state.failed_budget:
            state.backoff = 0
        layer = state.layer
        if layer is not None and (layer >= len(rates) or rates[layer] is None):
            # Its layer stopped arriving (the publisher dropped it): the best one below,
            # else the next one up, never beyond what fits.
            below = [i for i in range(min(layer, len(rates))) if rates[i] is not None]
            candidate = below[-1] if below else _next_layer(rates, layer)
            if fit is None or candidate is None:
                state.layer = None
            else:
                state.layer = min(candidate, fit)
            state.since = None
            return
        if layer is None:
            if fit_resume is None:
                state.since = None
            elif state.fresh:
                state.layer, state.since, state.fresh = fit_resume, None, False
            elif state.since is None:
                state.since = now
            elif now - state.since >= self._hold(self.resume_hold, fit_fast, fit_resume, state):
                state.layer, state.since, state.raised_at = fit_resume, None, now
                state.raised_budget = budget
            return
        if fit is None and keep:
            fit = _next_layer(rates, -1)  # short by less than PAUSE_SLACK: its lowest, not a pause
        if fit is None or fit < layer:
            state.layer, state.since = fit, None  # down at once
            if state.raised_at is not None and budget < LINK_CHANGED * state.raised_budget:
                state.raised_at = None  # the link itself shrank: not the up-step's fault
            if state.raised_at is not None:  # ...and the last up-step failed
                state.raised_at = None
                state.backoff = min(state.backoff + 1, MAX_BACKOFF)
                state.failed_budget = state.raised_budget
            return
        if fit_up is not None and fit_up > layer:
            if state.since is None:
                state.since = now
            elif now - state.since >= self._hold(self.up_hold, fit_fast, fit_up, state):
                state.layer, state.since, state.raised_at = fit_up, None, now
                state.raised_budget = budget
        else:
            state.since = None

    @staticmethod
    def _keep(state: _State, fit_keep: int | None, fit_now: int | None, now: float) -> bool:
        """A playing line keeps its lowest layer rather than pause (if it comes to that)."""
        if fit_keep is not None or state.layer is None:
            state.short_since = None
            return True
        if fit_now is None:
            return False  # far short: pausing later only queues what the link cannot carry
        if state.short_since is None:
            state.short_since = now
        return now - state.short_since < PAUSE_HOLD

    @staticmethod
    def _hold(hold: float, fit_fast: int | None, step: int | None, state: _State) -> float:
        """How long the budget must have fit `step` first: shorter when it fits it twice over."""
        if fit_fast is not None and step is not None and fit_fast >= step:
            hold *= FAST_HOLD_SHARE
        return hold * 2**state.backoff

    def _guess(self, line: Line) -> list[float | None]:
        """Every layer's bitrate, arriving or not: measured, remembered, or extrapolated."""
        guessed: list[float | None] = []
        for index, rate in enumerate(line.bitrates):
            if rate is None:
                rate = self._known.get((line.publication, index))
            if rate is None and guessed and guessed[-1] is not None:
                rate = guessed[-1] * _UNKNOWN_LAYER_STEP
            guessed.append(rate)
        return guessed


def fit_layers(budget: float, lines: Sequence[Sequence[float | None]]) -> list[int | None]:
    """Lowest layers first, then one step up per line per round, while the budget lasts."""
    choice: list[int | None] = [None] * len(lines)
    left = budget
    paused = False
    for i, rates in enumerate(lines):
        lowest = _next_layer(rates, -1)
        if lowest is None:
            continue  # nothing arriving: not a pause for bandwidth
        cost = rates[lowest] or 0.0
        if cost <= left:
            choice[i] = lowest
            left -= cost
        else:
            paused = True
    if paused:
        return choice
    stepped = True
    while stepped:
        stepped = False
        for i, rates in enumerate(lines):
            current = choice[i]
            if current is None:
                continue
            higher = _next_layer(rates, current)
            if higher is None:
                continue
            extra = (rates[higher] or 0.0) - (rates[current] or 0.0)
            if extra <= left:
                choice[i] = higher
                left -= extra
                stepped = True
    return choice


def _ordered(
    budget: float, rates: Sequence[Sequence[float | None]], order: Sequence[int]
) -> list[int | None]:
    """`fit_layers` with the lines taken in `order`, the result in the lines' own order."""
    chosen = fit_layers(budget, [rates[i] for i in order])
    result: list[int | None] = [None] * len(rates)
    for position, i in enumerate(order):
        result[i] = chosen[position]
    return result


def wanted_layers(allocations: Iterable[Allocation]) -> dict[str, frozenset[int]]:
    """Per publication, the layers some subscriber receives, is about to, or resumes on.

    The lowest layer of a publication with any line stays wanted (a paused
    line resumes on it, and its bitrate must keep being measured).
    """
    wanted: dict[str, set[int]] = {}
    for allocation in allocations:
        for choice in allocation.lines.values():
            layers = wanted.setdefault(choice.publication, {0})
            if choice.layer is not None:
                layers.add(choice.layer)
            if choice.desired is not None:
                layers.add(choice.desired)
    return {publication: frozenset(layers) for publication, layers in wanted.items()}


def _next_layer(rates: Sequence[float | None], above: int) -> int | None:
    for index in range(above + 1, len(rates)):
        if rates[index] is not None:
            return index
    return None


def _top(rates: Sequence[float | None]) -> float:
    for rate in reversed(rates):
        if rate is not None:
            return rate
    return 0.0


def _cap(candidate: list[int | None], fit: list[int | None]) -> list[int | None]:
    """Never above what fits without margin (keeps the total within the budget)."""
    return [
        None if c is None or f is None else min(c, f) for c, f in zip(candidate, fit, strict=True)
    ]
