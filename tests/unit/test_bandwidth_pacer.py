"""The pacer on a simulated clock: spreading, order, bounded queue, probe clusters."""

from __future__ import annotations

import itertools

import pytest

from roomtone.sfu.bandwidth.pacer import MIN_QUEUE_BYTES, Pacer
from roomtone.sfu.bandwidth.probe import ProbeCluster
from roomtone.sfu.bandwidth.simulation import Clock


class Harness:
    def __init__(self, target: float = 400_000, padding: bool = True) -> None:
        self.clock = Clock()
        self.sent: list[tuple[float, object, int | None]] = []
        self.padding: list[tuple[float, int, int]] = []
        self.dropped: list[list[object]] = []
        self.pacer = Pacer(
            self._send,
            self.clock.call_later,
            lambda: self.clock.now,
            send_padding=self._pad if padding else None,
            on_drop=self.dropped.append,
            target=target,
        )

    def _send(self, packet: object) -> None:
        self.sent.append((self.clock.now, packet, self.pacer.probe_cluster))

    def _pad(self, size: int, cluster: int) -> int:
        assert self.pacer.probe_cluster == cluster
        self.padding.append((self.clock.now, size, cluster))
        return size

    def run(self, until: float) -> None:
        self.clock.run_until(until)


def test_a_packet_goes_out_at_once_when_the_bucket_allows() -> None:
    harness = Harness()
    harness.pacer.enqueue("a", 500)
    assert [p for _, p, _ in harness.sent] == ["a"]
    assert not harness.clock._events  # no timer on the fast path


def test_a_burst_is_spread_at_the_pacing_rate_in_order() -> None:
    harness = Harness(target=400_000)  # paced at 1.5 × 400 kbit/s = 75 kB/s
    for index in range(20):
        harness.pacer.enqueue(index, 1000)
    assert len(harness.sent) == 1
    assert harness.pacer.queue_delay == pytest.approx(19 * 1000 / 75_000)
    harness.run(1.0)
    times = [t for t, _, _ in harness.sent]
    assert [p for _, p, _ in harness.sent] == list(range(20))
    assert times[-1] == pytest.approx(19 * 1000 / 75_000, abs=0.006)  # give or take the burst
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 0.008  # never two 1000-byte packets within the 5 ms burst allowance
    assert len(harness.pacer) == 0


def test_a_new_target_changes_the_rate_of_what_is_queued() -> None:
    harness = Harness(target=400_000)
    for index in range(11):
        harness.pacer.enqueue(index, 1000)
    harness.pacer.set_target(4_000_000)  # 750 kB/s: 10 kB in about 13 ms
    assert harness.pacer.rate == pytest.approx(6_000_000)
    harness.run(0.1)
    assert len(harness.sent) == 11
    assert harness.sent[-1][0] < 0.02


def test_the_queue_is_bounded_and_drops_the_oldest() -> None:
    harness = Harness(target=100_000)  # 18.75 kB/s: 0.4 s is less than the 30 kB floor
    for index in range(60):
        harness.pacer.enqueue(index, 1000)
    assert harness.pacer.dropped == sum(len(d) for d in harness.dropped) > 0
    kept = len(harness.pacer)
    assert kept * 1000 <= MIN_QUEUE_BYTES
    assert harness.dropped[0][0] == 1  # packet 0 went out at once; the oldest queued go first
    harness.run(5.0)
    sent = [p for _, p, _ in harness.sent]
    assert sent == sorted(sent) and sent[-1] == 59


def test_a_probe_sends_media_first_then_padding_at_its_rate_tagged() -> None:
    harness = Harness(target=300_000)
    for index in range(3):
        harness.pacer.enqueue(index, 1000)  # the first goes out at once, two wait
    cluster = ProbeCluster(7, 1_000_000, 5000, min_packets=5)
    harness.pacer.probe(cluster)
    harness.run(0.2)
    probe_media = [p for _, p, c in harness.sent if c == 7]
    assert probe_media == [1, 2]
    assert [c for _, _, c in harness.padding] == [7, 7, 7]
    assert sum(size for _, size, _ in harness.padding) + 2000 >= 5000
    times = sorted([t for t, _, c in harness.sent if c == 7] + [t for t, _, _ in harness.padding])
    assert times[-1] - times[0] == pytest.approx(4 * 1000 * 8 / 1_000_000, abs=0.008)
    assert harness.pacer.probe_cluster is None
    harness.pacer.enqueue("after", 500)
    assert harness.sent[-1][1:] == ("after", None)


def test_without_padding_a_probe_ends_with_the_media_it_had() -> None:
    harness = Harness(target=300_000, padding=False)
    harness.pacer.probe(ProbeCluster(1, 1_000_000, 5000))
    harness.run(0.1)
    assert harness.padding == []
    harness.pacer.enqueue("x", 500)
    harness.run(0.2)
    assert harness.sent[-1][1:] == ("x", None)


def test_probes_queue_behind_each_other() -> None:
    harness = Harness(target=300_000)
    harness.pacer.probe(ProbeCluster(1, 900_000, 4500))
    harness.pacer.probe(ProbeCluster(2, 1_800_000, 9000))
    harness.run(0.5)
    clusters = [c for _, _, c in harness.padding]
    assert clusters == sorted(clusters) and set(clusters) == {1, 2}
    assert sum(s for _, s, c in harness.padding if c == 2) >= 9000


def test_close_stops_everything() -> None:
    harness = Harness(target=100_000)
    for index in range(10):
        harness.pacer.enqueue(index, 1000)
    harness.pacer.close()
    harness.run(2.0)
    assert len(harness.sent) == 1 and len(harness.pacer) == 0
