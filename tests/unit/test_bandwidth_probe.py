"""When to probe, and what a probe measured."""

from __future__ import annotations

import pytest

from roomtone.sfu.bandwidth.probe import (
    CHAIN_GAIN,
    PERIODIC_GAIN,
    PERIODIC_INTERVAL,
    PERIODIC_MAX,
    PROBE_DURATION,
    PROBE_MIN_PACKETS,
    STABLE_FOR,
    ProbeCluster,
    ProbeController,
    ProbeEvaluator,
)


def test_exponential_probing_at_the_start_then_on_while_it_succeeds() -> None:
    controller = ProbeController(max_rate=10_000_000)
    first = controller.process(0.0, 300_000, wanted=3_000_000)
    assert [c.bitrate for c in first] == [900_000, 1_800_000]
    assert first[0].id != first[1].id
    assert first[0].min_bytes == 900_000 * PROBE_DURATION / 8
    assert first[0].min_packets == PROBE_MIN_PACKETS
    assert controller.process(0.1, 300_000, wanted=3_000_000) == []  # waiting for results
    (second,) = controller.process(0.3, 1_700_000, wanted=3_000_000)  # 1.7M ≥ 0.7 × 1.8M
    assert second.bitrate == CHAIN_GAIN * 1_700_000
    # capped at 1.5 × wanted; a probe that reached the cap is the end of it
    assert controller.process(0.6, 3_300_000, wanted=2_000_000) == []


def test_a_failed_probe_waits_for_the_periodic_one_and_failures_space_them_out() -> None:
    controller = ProbeController(max_rate=10_000_000)
    controller.process(0.0, 300_000, wanted=3_000_000)
    assert controller.process(0.5, 350_000, wanted=3_000_000) == []
    assert controller.process(1.5, 350_000, wanted=3_000_000) == []  # timed out: failed
    # the link is where we thought: the next probe comes after a longer interval
    later = min(2 * PERIODIC_INTERVAL, PERIODIC_MAX)
    assert later > PERIODIC_INTERVAL
    assert controller.process(later - 0.1, 350_000, wanted=3_000_000) == []
    (periodic,) = controller.process(later + 0.1, 350_000, wanted=3_000_000)
    assert periodic.bitrate == PERIODIC_GAIN * 350_000
    t = later + 0.1
    controller.process(t + 1.5, 350_000, wanted=3_000_000)  # failed again: at most PERIODIC_MAX
    assert controller.process(t + PERIODIC_MAX - 0.1, 350_000, wanted=3_000_000) == []
    assert len(controller.process(t + PERIODIC_MAX + 0.1, 350_000, wanted=3_000_000)) == 1
    # this one succeeds: probing goes on at once, and periodic ones come at the base interval
    t += PERIODIC_MAX + 0.1
    assert len(controller.process(t + 0.2, 650_000, wanted=3_000_000)) == 1


def test_no_probe_unless_the_estimate_limits_and_the_link_is_stable() -> None:
    controller = ProbeController(max_rate=10_000_000)
    assert controller.process(0.0, 2_000_000, wanted=1_500_000) == []  # everything fits
    controller.process(1.0, 300_000, wanted=3_000_000)  # the initial probes
    t = 10.0
    assert controller.process(t, 200_000, wanted=3_000_000) == []  # the estimate just dropped
    assert controller.process(t + STABLE_FOR - 0.1, 200_000, wanted=3_000_000) == []
    assert len(controller.process(t + STABLE_FOR + 0.1, 200_000, wanted=3_000_000)) == 1


def test_new_demand_probes_at_once_instead_of_after_the_interval() -> None:
    controller = ProbeController(max_rate=10_000_000)
    controller.process(0.0, 1_000_000, wanted=900_000)  # everything fits: no probe
    controller.process(5.0, 1_000_000, wanted=900_000)
    # a single-layer publication of 1.5 Mbit/s joins: its line waits for a probe, not 4-6 s
    (probe,) = controller.process(5.1, 1_000_000, wanted=2_400_000)
    assert probe.bitrate > 1_000_000
    # the same demand later is no news: the periodic interval applies again
    controller.process(6.5, 1_000_000, wanted=2_400_000)  # (the probe failed)
    assert controller.process(7.0, 1_000_000, wanted=2_400_000) == []


def test_fill_pads_up_to_the_estimate_without_the_audio() -> None:
    controller = ProbeController(max_rate=10_000_000)
    (fill,) = controller.fill(0.0, 500_000, wanted=1_000_000, outside=100_000)
    assert fill.bitrate == pytest.approx(350_000)
    assert controller.fill(1.0, 500_000, wanted=1_000_000) == []  # still filling
    assert len(controller.fill(2.5, 500_000, wanted=1_000_000)) == 1
    assert controller.fill(5.0, 500_000, wanted=400_000) == []  # not limited
    assert controller.fill(9.0, 100_000, wanted=1_000_000, outside=100_000) == []  # no room


def _cluster(evaluator: ProbeEvaluator, spec: ProbeCluster, packets, first_seq: int = 100):
    """Send and acknowledge `packets`: [(send, arrival or None, size)]."""
    evaluator.start(spec, packets[0][0])
    for index, (send, arrival, size) in enumerate(packets):
        evaluator.on_sent(spec.id, first_seq + index, size, send)
        if arrival is not None:
            evaluator.on_acked(spec.id, send, arrival, size)
    return first_seq + len(packets) - 1


def test_a_probe_the_link_carried_measures_its_own_rate() -> None:
    evaluator = ProbeEvaluator()
    spec = ProbeCluster(1, 1_000_000, 10_000)
    # 1000 bytes every 8 ms (1 Mbit/s), arriving as they were sent
    packets = [(i * 0.008, 0.02 + i * 0.008, 1000) for i in range(10)]
    last = _cluster(evaluator, spec, packets)
    assert evaluator.pending
    assert evaluator.finished(last - 1, 0.1) == []  # not all reported yet
    (result,) = evaluator.finished(last, 0.1)
    assert result.cluster_id == 1 and not result.saturated
    assert result.bitrate == pytest.approx(1_000_000)
    assert not evaluator.pending


def test_a_saturated_probe_measures_the_link_and_counts_what_shared_it() -> None:
    evaluator = ProbeEvaluator()
    spec = ProbeCluster(2, 2_000_000, 10_000)
    evaluator.start(spec, 0.0)
    # sent at 2 Mbit/s, drained at 1 Mbit/s: 1000 bytes every 8 ms, with a 200-byte audio
    # packet of someone else's squeezed in between each (1.6 ms at 1 Mbit/s)
    arrival = 0.02
    for i in range(10):
        send = i * 0.004
        evaluator.on_sent(2, 100 + i, 1000, send)
        evaluator.on_acked(2, send, arrival, 1000)
        evaluator.on_acked(None, send + 0.001, arrival + 0.0016, 200)
        arrival += 0.008 + 0.0016
    (result,) = evaluator.finished(109, 0.2)
    assert result.saturated
    # what arrived: 1000 + 200 bytes every 9.6 ms = 1 Mbit/s, × 0.95
    assert result.bitrate == pytest.approx(0.95 * 1_000_000, rel=0.02)


def test_a_token_bucket_burst_does_not_pass_for_capacity() -> None:
    evaluator = ProbeEvaluator()
    spec = ProbeCluster(5, 1_000_000, 12_000)
    # 1000 bytes every 8 ms (1 Mbit/s) into a 500 kbit/s bucket holding 4000 bytes: the
    # first packets pass as sent, then one every 16 ms
    packets, free_at, tokens, rate = [], 0.0, 4000.0, 62_500.0
    for i in range(12):
        send = i * 0.008
        start = max(send, free_at)
        tokens = min(4000.0, tokens + (start - free_at) * rate)
        if tokens >= 1000:
            tokens -= 1000
            free_at = start
        else:
            free_at = start + (1000 - tokens) / rate
            tokens = 0.0
        packets.append((send, free_at + 0.02, 1000))
    last = _cluster(evaluator, spec, packets)
    (result,) = evaluator.finished(last, 0.3)
    assert result.saturated and result.bitrate == pytest.approx(0.95 * 500_000, rel=0.05)


def test_a_probe_with_too_much_loss_or_too_late_measures_nothing() -> None:
    evaluator = ProbeEvaluator()
    spec = ProbeCluster(3, 1_000_000, 5000)
    packets = [(i * 0.008, None if i % 2 else 0.02 + i * 0.008, 1000) for i in range(12)]
    last = _cluster(evaluator, spec, packets)
    assert evaluator.finished(last, 0.2) == []
    late = ProbeCluster(4, 1_000_000, 5000)
    evaluator.start(late, 0.0)
    evaluator.on_sent(4, 1, 1000, 0.0)  # never completed, never reported
    assert evaluator.finished(0, 0.5) == [] and evaluator.pending
    assert evaluator.finished(0, 1.5) == [] and not evaluator.pending  # timed out
