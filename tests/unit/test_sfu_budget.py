"""The stand-ins for the bandwidth package: the loss-based estimate and the layer allocator."""

from __future__ import annotations

from roomtone.sfu.budget import INITIAL_ESTIMATE, SILENCE, UP_HOLD, LayerAllocator, LossEstimate

LAYERS = [(0, 100_000.0), (1, 300_000.0), (2, 1_000_000.0)]


def test_every_line_gets_its_lowest_layer_before_any_goes_higher() -> None:
    allocator = LayerAllocator()
    lines = {"a": LAYERS, "b": LAYERS}
    assert allocator.allocate(250_000, lines, {}, 0.0) == {"a": 0, "b": 0}
    assert allocator.allocate(150_000, {"c": LAYERS, "d": LAYERS}, {}, 0.0) == {"c": 0, "d": None}
    assert LayerAllocator().allocate(5_000_000, lines, {}, 0.0) == {"a": 2, "b": 2}


def test_going_up_waits_for_the_budget_to_hold_and_going_down_is_immediate() -> None:
    allocator = LayerAllocator()
    lines = {"a": LAYERS}
    assert allocator.allocate(150_000, lines, {}, 0.0) == {"a": 0}
    assert allocator.allocate(2_000_000, lines, {"a": 0}, 1.0) == {"a": 0}  # fits: hold starts
    assert allocator.allocate(2_000_000, lines, {"a": 0}, 1.0 + UP_HOLD / 2) == {"a": 0}
    assert allocator.allocate(2_000_000, lines, {"a": 0}, 1.0 + UP_HOLD) == {"a": 1}
    assert allocator.allocate(500_000, lines, {"a": 1}, 5.0) == {"a": 1}
    assert allocator.allocate(200_000, lines, {"a": 1}, 5.5) == {"a": 0}  # at once
    assert allocator.allocate(50_000, lines, {"a": 0}, 6.0) == {"a": None}  # paused
    # Resuming needs the margin and the hold too: no flapping around the edge.
    assert allocator.allocate(110_000, lines, {"a": None}, 7.0) == {"a": None}
    assert allocator.allocate(130_000, lines, {"a": None}, 8.0) == {"a": None}
    assert allocator.allocate(130_000, lines, {"a": None}, 8.0 + UP_HOLD) == {"a": 0}


def test_a_hold_starts_over_when_the_budget_dips() -> None:
    allocator = LayerAllocator()
    lines = {"a": LAYERS}
    allocator.allocate(400_000, lines, {}, 0.0)
    assert allocator.allocate(2_000_000, lines, {"a": 1}, 1.0) == {"a": 1}
    assert allocator.allocate(400_000, lines, {"a": 1}, 2.0) == {"a": 1}  # dip: hold dropped
    assert allocator.allocate(2_000_000, lines, {"a": 1}, 1.0 + UP_HOLD) == {"a": 1}
    assert allocator.allocate(2_000_000, lines, {"a": 1}, 1.0 + 2 * UP_HOLD) == {"a": 2}


def test_the_loss_estimate_falls_with_loss_and_decays_in_silence() -> None:
    estimate = LossEstimate(0.0)
    assert estimate.target_at(0.0) == INITIAL_ESTIMATE
    estimate.on_loss_report(0.3, 1.0)
    assert estimate.target_at(1.0) == INITIAL_ESTIMATE * 0.85
    estimate.on_loss_report(0.05, 2.0)  # in between: held
    assert estimate.target_at(2.0) == INITIAL_ESTIMATE * 0.85
    estimate.on_loss_report(0.0, 3.0)
    assert estimate.target_at(3.0) > INITIAL_ESTIMATE * 0.85
    quiet = [estimate.target_at(3.0 + SILENCE + t) for t in (0, 1, 2, 5)]
    assert quiet == sorted(quiet, reverse=True) and quiet[-1] < quiet[0] / 4
    estimate.on_remb(1, 20.0)  # any feedback means it is alive again
    assert estimate.target_at(20.0) > quiet[-1]
