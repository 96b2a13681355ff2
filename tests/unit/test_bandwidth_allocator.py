"""Layer allocation: fairness, pause, hysteresis, wanted layers."""

from __future__ import annotations

from roomtone.sfu.bandwidth.allocator import (
    FAILED_WITHIN,
    PAUSE_HOLD,
    RESUME_HOLD,
    START_GRACE,
    UP_HOLD,
    Allocator,
    Line,
    fit_layers,
    wanted_layers,
)

Q, H, F = 150_000.0, 500_000.0, 1_300_000.0
LAYERS = (Q, H, F)


def lines(*keys: str, layers=LAYERS) -> list[Line]:
    return [Line(key, f"pub-{key}", layers) for key in keys]


def test_every_line_gets_its_lowest_layer_before_any_goes_higher() -> None:
    assert fit_layers(400_000, [LAYERS, LAYERS]) == [0, 0]
    assert fit_layers(700_000, [LAYERS, LAYERS]) == [1, 0]  # then one step per line per round
    assert fit_layers(1_000_000, [LAYERS, LAYERS]) == [1, 1]
    assert fit_layers(3_000_000, [LAYERS, LAYERS]) == [2, 2]


def test_a_line_whose_lowest_layer_does_not_fit_pauses_and_nobody_goes_higher() -> None:
    assert fit_layers(200_000, [LAYERS, LAYERS]) == [0, None]
    # the second line's lowest does not fit: the first keeps its lowest, not more
    assert fit_layers(600_000, [LAYERS, (700_000.0, None, None)]) == [0, None]
    assert fit_layers(100_000, [LAYERS]) == [None]


def test_layers_not_arriving_are_skipped() -> None:
    assert fit_layers(2_000_000, [(Q, None, F)]) == [2]
    assert fit_layers(400_000, [(None, H, F)]) == [None]
    assert fit_layers(400_000, [(None, None, None), LAYERS]) == [None, 0]  # nothing to pause


def test_a_new_line_starts_at_what_fits_with_margin() -> None:
    allocator = Allocator()
    allocation = allocator.allocate(1_000_000, lines("a", "b"), 0.0)
    # 1 M / 1.15 = 870 k: q + h fits, h + h does not
    assert allocation.layers == {"a": 1, "b": 0}
    assert allocation.used == Q + H and allocation.wanted == 2 * F
    assert allocation.limited and allocation.paused == frozenset()


def test_a_new_single_layer_line_is_starting_not_paused_while_the_estimate_catches_up() -> None:
    single = (1_500_000.0,)
    allocator = Allocator()
    allocation = allocator.allocate(250_000, lines("a", layers=single), 0.0)
    # fits nothing at the start estimate: not forwarded yet, but no paused notice either
    assert allocation.layers == {"a": None} and allocation.paused == frozenset()
    # the probes find the link: it starts at once, without the resume hold
    assert allocator.allocate(2_000_000, lines("a", layers=single), 1.0).layers == {"a": 0}
    # on a link that never carries it, it is paused once the grace is over
    other = Allocator()
    other.allocate(250_000, lines("b", layers=single), 0.0)
    assert other.allocate(250_000, lines("b", layers=single), START_GRACE - 0.1).paused == set()
    assert other.allocate(250_000, lines("b", layers=single), START_GRACE).paused == {"b"}


def test_up_only_after_the_budget_fit_with_margin_for_a_while_down_at_once() -> None:
    allocator = Allocator()
    assert allocator.allocate(400_000, lines("a"), 0.0).layers == {"a": 0}
    t = 1.0
    assert allocator.allocate(700_000, lines("a"), t).layers == {"a": 0}  # fits, not held yet
    assert allocator.allocate(700_000, lines("a"), t + UP_HOLD - 0.1).layers == {"a": 0}
    assert allocator.allocate(560_000, lines("a"), t + UP_HOLD).layers == {"a": 0}  # no margin
    # the margin was lost for a moment: the hold starts over
    assert allocator.allocate(700_000, lines("a"), t + UP_HOLD + 0.1).layers == {"a": 0}
    assert allocator.allocate(700_000, lines("a"), t + 2 * UP_HOLD + 0.2).layers == {"a": 1}
    # fits without margin: stays; does not fit: down at once
    assert allocator.allocate(510_000, lines("a"), 20.0).layers == {"a": 1}
    assert allocator.allocate(490_000, lines("a"), 20.1).layers == {"a": 0}


def test_a_line_can_jump_several_layers_when_the_budget_allows() -> None:
    allocator = Allocator()
    allocator.allocate(200_000, lines("a"), 0.0)
    allocator.allocate(5_000_000, lines("a"), 1.0)
    assert allocator.allocate(5_000_000, lines("a"), 1.0 + UP_HOLD).layers == {"a": 2}


def test_pause_after_a_hold_or_at_once_far_short_and_resume_after_the_budget_fit_with_margin() -> (
    None
):
    allocator = Allocator()
    allocator.allocate(400_000, lines("a", "b"), 0.0)
    # short of 2 × q (300 k) by a third: a dip of the estimate, unless it lasts
    assert allocator.allocate(200_000, lines("a", "b"), 1.0).layers == {"a": 0, "b": 0}
    assert allocator.allocate(200_000, lines("a", "b"), 1.0 + PAUSE_HOLD - 0.1).layers["b"] == 0
    allocation = allocator.allocate(200_000, lines("a", "b"), 1.0 + PAUSE_HOLD)
    assert allocation.layers == {"a": 0, "b": None}
    assert allocation.paused == frozenset({"b"})
    assert allocator.allocate(310_000, lines("a", "b"), 2.0).layers["b"] is None  # no margin
    allocator.allocate(400_000, lines("a", "b"), 3.0)
    assert allocator.allocate(400_000, lines("a", "b"), 3.0 + RESUME_HOLD - 0.1).paused
    assert not allocator.allocate(400_000, lines("a", "b"), 3.0 + RESUME_HOLD).paused


def test_a_layer_that_stops_arriving_is_left_at_once() -> None:
    allocator = Allocator()
    allocator.allocate(3_000_000, lines("a"), 0.0)
    assert allocator.allocate(3_000_000, lines("a", layers=(Q, H, None)), 1.0).layers == {"a": 1}
    assert allocator.allocate(3_000_000, lines("a", layers=(Q, None, F)), 2.0).layers == {"a": 0}
    assert allocator.allocate(3_000_000, lines("a", layers=(None, None, F)), 3.0).layers == {"a": 2}
    assert allocator.allocate(3_000_000, lines("a", layers=(None, None, None)), 4.0).layers == {
        "a": None
    }


def test_lines_that_go_away_are_forgotten() -> None:
    allocator = Allocator()
    allocator.allocate(3_000_000, lines("a", "b"), 0.0)
    allocation = allocator.allocate(3_000_000, lines("b"), 1.0)
    assert set(allocation.lines) == {"b"}
    # "a" comes back as a new line: it starts at what fits, no hold
    assert allocator.allocate(3_000_000, lines("a", "b"), 2.0).layers["a"] == 2


def test_wanted_layers_per_publication() -> None:
    weak, strong, other = Allocator(), Allocator(), Allocator()
    shared = Line("m1", "alice", LAYERS)
    weak_allocation = weak.allocate(100_000, [shared], 0.0)  # paused
    strong_allocation = strong.allocate(3_000_000, [shared], 0.0)  # f
    # bob's h and f are off at the publisher: the allocator remembers nothing about them,
    # so guesses 3× per layer; with the budget for it, the subscriber wants them back on
    bob = Line("m2", "bob", (Q, None, None))
    other_allocation = other.allocate(3_000_000, [bob], 0.0)
    assert other_allocation.layers == {"m2": 0}
    assert other_allocation.lines["m2"].desired == 2
    assert wanted_layers([weak_allocation, strong_allocation, other_allocation]) == {
        "alice": frozenset({0, 2}),
        "bob": frozenset({0, 2}),
    }


def test_remembered_bitrates_of_layers_that_went_off() -> None:
    allocator = Allocator()
    allocator.allocate(900_000, [Line("m", "p", LAYERS)], 0.0)
    allocation = allocator.allocate(900_000, [Line("m", "p", (Q, None, None))], 1.0)
    # h (500 k) is remembered and fits; f (1.3 M) does not
    assert allocation.lines["m"].desired == 1


def test_a_new_line_that_fits_nothing_starts_as_soon_as_its_lowest_layer_fits() -> None:
    allocator = Allocator()
    assert allocator.allocate(100_000, lines("a"), 0.0).layers == {"a": None}
    # the first probe measured the link: no resume hold for a line that never played
    assert allocator.allocate(2_000_000, lines("a"), 0.3).layers == {"a": 2}
    # once it played, a pause resumes only after the hold
    assert allocator.allocate(50_000, lines("a"), 1.0).layers == {"a": None}  # far short: at once
    assert allocator.allocate(2_000_000, lines("a"), 1.1).layers == {"a": None}
    assert allocator.allocate(2_000_000, lines("a"), 1.1 + RESUME_HOLD).layers == {"a": 2}


def test_an_up_step_taken_back_soon_doubles_the_hold_until_the_budget_is_clearly_better() -> None:
    allocator = Allocator()
    allocator.allocate(400_000, lines("a"), 0.0)
    allocator.allocate(700_000, lines("a"), 1.0)
    assert allocator.allocate(700_000, lines("a"), 1.0 + UP_HOLD).layers == {"a": 1}
    t = 5.0
    assert allocator.allocate(450_000, lines("a"), t).layers == {"a": 0}  # failed within 10 s
    allocator.allocate(700_000, lines("a"), t + 0.1)
    assert allocator.allocate(700_000, lines("a"), t + 0.1 + UP_HOLD).layers == {"a": 0}
    assert allocator.allocate(700_000, lines("a"), t + 0.1 + 2 * UP_HOLD).layers == {"a": 1}
    # it stuck this time (FAILED_WITHIN): the next try waits the base hold again
    t += 0.1 + 2 * UP_HOLD + FAILED_WITHIN
    allocator.allocate(700_000, lines("a"), t)
    assert allocator.allocate(400_000, lines("a"), t + 1).layers == {"a": 0}
    allocator.allocate(700_000, lines("a"), t + 2)
    assert allocator.allocate(700_000, lines("a"), t + 2 + UP_HOLD).layers == {"a": 1}
    # failed again, then the link gets much better: no waiting for old failures
    allocator.allocate(450_000, lines("a"), t + 6)
    allocator.allocate(5_000_000, lines("a"), t + 7)
    assert allocator.allocate(5_000_000, lines("a"), t + 7 + UP_HOLD).layers == {"a": 2}


def test_a_link_that_shrank_under_a_fresh_up_step_does_not_slow_the_resume() -> None:
    allocator = Allocator()
    allocator.allocate(400_000, lines("a", "b"), 0.0)
    allocator.allocate(1_200_000, lines("a", "b"), 1.0)
    assert allocator.allocate(1_200_000, lines("a", "b"), 1.0 + UP_HOLD).layers == {"a": 1, "b": 1}
    # a limit is put on the link two seconds later: far below, not an up-step that failed
    t = 3.0 + UP_HOLD
    assert allocator.allocate(140_000, lines("a", "b"), t).layers == {"a": 0, "b": None}
    allocator.allocate(400_000, lines("a", "b"), t + 1)
    assert allocator.allocate(400_000, lines("a", "b"), t + 1 + RESUME_HOLD).layers == {
        "a": 0,
        "b": 0,
    }


def test_a_playing_line_a_little_short_keeps_its_lowest_layer_instead_of_pausing() -> None:
    single = [Line("a", "pub-a", (490_000.0,)), Line("b", "pub-b", (157_000.0,))]
    allocator = Allocator()
    assert allocator.allocate(800_000, single, 0.0).layers == {"a": 0, "b": 0}
    # the estimate dips 1 % below the sum (647 k): both keep playing
    assert allocator.allocate(640_000, single, 1.0).layers == {"a": 0, "b": 0}
    # well below it, one pauses if it lasts
    assert allocator.allocate(500_000, single, 2.0).layers == {"a": 0, "b": 0}
    assert allocator.allocate(500_000, single, 2.0 + PAUSE_HOLD).layers == {"a": 0, "b": None}


def test_a_lifted_link_shortens_the_holds() -> None:
    allocator = Allocator()
    allocator.allocate(400_000, lines("a"), 0.0)
    assert allocator.allocate(50_000, lines("a"), 1.0).layers == {"a": None}  # paused
    # the limit is lifted: a budget far above every layer resumes and steps up quickly
    allocator.allocate(5_000_000, lines("a"), 2.0)
    assert allocator.allocate(5_000_000, lines("a"), 2.0 + RESUME_HOLD / 2).layers == {"a": 2}
    # just above what a step needs: the full hold
    other = Allocator()
    other.allocate(400_000, lines("b"), 0.0)
    other.allocate(700_000, lines("b"), 1.0)
    assert other.allocate(700_000, lines("b"), 1.0 + UP_HOLD / 2).layers == {"b": 0}


def test_a_paused_or_new_line_never_takes_a_playing_ones_place() -> None:
    # One q layer fits, two do not. "b" plays; "a" comes first in the order of lines but
    # must not push "b" off (b paused at once, a waiting for its resume hold: both frozen).
    allocator = Allocator()
    assert allocator.allocate(200_000, lines("b"), 0.0).layers == {"b": 0}
    for t in (1.0, 1.0 + RESUME_HOLD, 1.0 + 2 * PAUSE_HOLD):
        allocation = allocator.allocate(200_000, lines("a", "b"), t)
        assert allocation.layers == {"a": None, "b": 0}


def test_one_video_that_fits_plays_through_dips_of_the_estimate() -> None:
    # The weak-link case: one of two videos fits. The estimate dips below its q layer
    # now and then (a cut after a burst, a probe's queue): it keeps playing.
    allocator = Allocator()
    allocator.allocate(180_000, lines("a", "b"), 0.0)
    t = 0.0
    for _ in range(5):
        for budget in (100_000, 110_000, 120_000, 180_000, 180_000, 180_000):
            t += 0.3
            assert allocator.allocate(budget, lines("a", "b"), t).layers == {"a": 0, "b": None}
