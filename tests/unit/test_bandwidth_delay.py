"""Delay-gradient detection: grouping, trendline, overuse detector, standing queue."""

from __future__ import annotations

from roomtone.sfu.bandwidth.delay import (
    DelayDetector,
    InterArrival,
    OveruseDetector,
    StandingQueue,
    TrendlineFilter,
    Usage,
)


def test_packets_within_5_ms_of_send_form_one_group() -> None:
    groups = InterArrival()
    assert groups.add(0.000, 1.000, 100) is None
    assert groups.add(0.004, 1.004, 100) is None  # same group
    assert groups.add(0.010, 1.010, 100) is None  # second group starts: no pair yet
    assert groups.add(0.012, 1.013, 100) is None
    # third group: the pair (group 1, group 2) is complete
    assert groups.add(0.020, 1.020, 100) == (0.012 - 0.004, 1.013 - 1.004)


def test_a_burst_arriving_behind_a_group_joins_it() -> None:
    groups = InterArrival()
    groups.add(0.000, 1.000, 1000)
    # sent 8 ms later but arrived 1 ms later: it queued behind the group
    assert groups.add(0.008, 1.001, 1000) is None
    groups.add(0.030, 1.030, 1000)
    deltas = groups.add(0.060, 1.060, 1000)
    assert deltas is not None and deltas[0] == 0.030 - 0.008  # from the burst's last send


def test_reordered_and_long_gaps_are_skipped() -> None:
    groups = InterArrival()
    groups.add(1.0, 2.0, 100)
    assert groups.add(0.5, 2.1, 100) is None  # sent before the group: ignored
    groups.add(1.1, 2.1, 100)
    assert groups.add(5.0, 6.0, 100) == (0.10000000000000009, 0.10000000000000009)
    assert groups.add(5.1, 6.1, 100) is None  # 3.9 s between those groups: no delta


def _feed(detector: DelayDetector, growth_per_group: float, groups: int, start: float = 0.0):
    """Groups 20 ms apart whose delay grows by `growth_per_group` seconds each."""
    usages = []
    for i in range(groups):
        send = start + i * 0.02
        detector.on_packet(send, send + 0.05 + i * growth_per_group, 1000)
        usages.append(detector.usage)
    return usages


def test_steady_delay_is_normal_and_growing_delay_is_overuse() -> None:
    detector = DelayDetector()
    assert set(_feed(detector, 0.0, 100)) == {Usage.NORMAL}
    assert not detector.take_overuse()
    usages = _feed(detector, 0.004, 60, start=2.0)  # 4 ms more per 20 ms: a queue filling
    assert Usage.OVERUSE in usages
    assert detector.take_overuse()
    assert not detector.take_overuse()  # taken


def test_shrinking_delay_is_underuse() -> None:
    detector = DelayDetector()
    _feed(detector, 0.0, 40)
    usages = []
    for i in range(60):
        send = 1.0 + i * 0.02
        detector.on_packet(send, send + max(0.3 - i * 0.004, 0.05), 1000)
        usages.append(detector.usage)
    assert Usage.UNDERUSE in usages


def test_trendline_slope() -> None:
    trend = TrendlineFilter(window=5, smoothing=0.0)
    for i in range(5):
        scaled = trend.update(1.0, i * 10.0)  # 1 ms more per 10 ms: slope 0.1
    assert abs(trend.trend - 0.1) < 1e-9
    assert abs(scaled - 5 * 0.1 * 4.0) < 1e-9  # min(deltas, 60) × slope × gain


def test_threshold_follows_the_signal_within_bounds() -> None:
    detector = OveruseDetector()
    for i in range(200):
        detector.detect(0.0, 0.0, 20.0, i * 20.0)
    assert detector.threshold == 6.0  # quiet signal: down to the floor
    for i in range(200, 1200):
        detector.detect(18.0, 0.0, 20.0, i * 20.0)
    assert 17.0 < detector.threshold <= 18.0  # a persistent signal: the threshold catches up
    for i in range(1200, 1400):
        detector.detect(1000.0, 0.0, 20.0, i * 20.0)
    assert detector.threshold <= 18.0  # spikes far above it are not followed


def test_a_spike_far_above_the_threshold_does_not_move_it() -> None:
    detector = OveruseDetector()
    detector.detect(0.0, 0.0, 20.0, 0.0)
    detector.detect(100.0, 1.0, 20.0, 20.0)
    assert detector.threshold == OveruseDetector.INITIAL_THRESHOLD


def test_overuse_needs_time_and_a_growing_trend() -> None:
    detector = OveruseDetector()
    assert detector.detect(20.0, 0.1, 4.0, 0.0) is Usage.NORMAL  # 2 ms over: not yet
    assert detector.detect(20.0, 0.1, 4.0, 4.0) is Usage.NORMAL  # 6 ms over
    assert detector.detect(20.0, 0.05, 8.0, 12.0) is Usage.NORMAL  # 14 ms, but the trend fell
    assert detector.detect(20.0, 0.06, 4.0, 16.0) is Usage.OVERUSE


def test_standing_queue_is_the_delay_above_the_recent_minimum() -> None:
    queue = StandingQueue(window=10.0)
    assert queue.update(0.040, 0.0) == 0.0
    assert abs(queue.update(0.140, 1.0) - 0.1) < 1e-9
    assert abs(queue.update(0.045, 2.0) - 0.005) < 1e-9
    # the minimum ages out after the window: a new baseline
    assert abs(queue.update(0.200, 11.5) - 0.155) < 1e-9
    assert queue.update(0.200, 13.0) == 0.0
