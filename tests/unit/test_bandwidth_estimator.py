"""The send-side estimate from synthetic traffic and feedback (no network, no clock)."""

from __future__ import annotations

import pytest

from roomtone.sfu.bandwidth.aimd import AimdRateControl
from roomtone.sfu.bandwidth.delay import Usage
from roomtone.sfu.bandwidth.estimator import BandwidthEstimator
from roomtone.sfu.bandwidth.loss import LossBasedControl
from roomtone.sfu.bandwidth.twcc import Feedback, FeedbackBuilder, parse_packet


class Path:
    """Packets through a FIFO bottleneck (or none), TWCC feedback into the estimator."""

    def __init__(self, estimator: BandwidthEstimator, rate: float | None, delay: float = 0.02):
        self.estimator = estimator
        self.rate = rate
        self.delay = delay
        self.seq = 0
        self.builder = FeedbackBuilder()
        self.free_at = 0.0
        self.pending: list[tuple[float, Feedback]] = []

    def send(self, size: int, now: float, cluster: int | None = None, lost: bool = False) -> None:
        self.estimator.on_sent(self.seq & 0xFFFF, size, now, cluster)
        if not lost:
            start = max(now, self.free_at)
            self.free_at = start + (size * 8 / self.rate if self.rate else 0.0)
            self.builder.record(self.seq & 0xFFFF, self.free_at + self.delay)
        self.seq += 1

    def feedback(self, now: float) -> None:
        data = self.builder.build(1, 2)
        if data is not None:
            self.estimator.on_feedback(parse_packet(data)[2], now + self.delay)

    def stream(
        self, start: float, duration: float, bitrate: float, size: int = 1000, **kw
    ) -> float:
        """Send at `bitrate` for `duration`, feedback every 100 ms; returns the end time."""
        interval = size * 8 / bitrate
        t = start
        next_feedback = start + 0.1
        while t < start + duration:
            self.send(size, t, **kw)
            t += interval
            if t >= next_feedback:
                self.feedback(next_feedback + 0.05)  # the last packets are in flight
                next_feedback += 0.1
        return t


def test_before_any_feedback_the_start_bitrate_holds() -> None:
    estimator = BandwidthEstimator(start_bitrate=400_000)
    assert estimator.target == 400_000 and estimator.mode == "none"
    estimator.on_sent(1, 1000, 0.0)
    estimator.update(10.0)  # no feedback ever: nothing to call a stall
    assert estimator.target == 400_000


def test_growth_needs_evidence_of_throughput() -> None:
    estimator = BandwidthEstimator(start_bitrate=300_000)
    Path(estimator, rate=None).stream(0.0, 20.0, 300_000)
    assert estimator.mode == "twcc"
    assert estimator.acked_bitrate == pytest.approx(300_000, rel=0.05)
    assert 300_000 < estimator.target <= 1.6 * 300_000  # 1.5 × acked + 10 kbit/s


def test_congestion_cuts_below_what_the_link_delivered() -> None:
    estimator = BandwidthEstimator(start_bitrate=1_000_000)
    path = Path(estimator, rate=500_000)
    path.stream(0.0, 3.0, 1_000_000)
    assert 0.6 * 500_000 <= estimator.delay_based <= 0.9 * 500_000
    # the sender ignored it: seconds of queue stand, and the target gives way further
    assert estimator.queue_delay > 1.0
    assert estimator.target < estimator.delay_based


def test_a_burst_the_link_delivered_does_not_cut_the_estimate() -> None:
    estimator = BandwidthEstimator(start_bitrate=800_000)
    path = Path(estimator, rate=1_000_000)
    t = path.stream(0.0, 5.0, 300_000)
    before = estimator.target
    for _ in range(10):  # a keyframe: 10 kB at once into a 1 Mbit/s link
        path.send(1000, t)
    path.stream(t + 0.001, 3.0, 300_000)
    assert estimator.target >= before


def test_heavy_loss_cuts_and_light_loss_recovers() -> None:
    estimator = BandwidthEstimator(start_bitrate=1_000_000)
    path = Path(estimator, rate=None)
    t = 0.0
    for i in range(400):  # 20 % loss for 4 s
        path.send(1000, t, lost=i % 5 == 0)
        t += 0.01
        if i % 10 == 9:
            path.feedback(t)
    assert estimator.loss_bound is not None
    assert estimator.target < 800_000
    cut = estimator.target
    path.stream(t, 10.0, 400_000)
    assert estimator.target > cut
    assert estimator.loss_bound is None or estimator.loss_bound > cut


def test_losses_of_packets_sent_before_a_cut_do_not_cut_again() -> None:
    estimator = BandwidthEstimator(start_bitrate=1_000_000)
    path = Path(estimator, rate=None)
    t = path.stream(0.0, 5.0, 1_000_000)
    before = estimator.target
    # The link shrank: half of 400 packets lost; the feedback on the second 200 comes late.
    early, late = path.builder, FeedbackBuilder()
    for i in range(400):
        path.builder = early if i < 200 else late
        path.send(1000, t, lost=i % 2 == 0)
        t += 0.008
    path.builder = early
    path.feedback(t)
    cut = estimator.target
    assert cut < 0.9 * before
    path.builder = late
    path.feedback(t + 1.0)  # sent before the cut: the cut already answered them
    assert estimator.target >= 0.95 * cut


def test_remb_drives_the_estimate_without_twcc_and_rr_loss_bounds_it() -> None:
    estimator = BandwidthEstimator(start_bitrate=300_000)
    estimator.on_remb(700_000, 1.0)
    assert estimator.mode == "remb" and estimator.target == 700_000
    estimator.on_loss_report(0.05, 1.5)
    assert estimator.target == 700_000  # a few percent is not congestion
    estimator.on_loss_report(0.30, 2.0)
    assert estimator.target == pytest.approx(700_000 * 0.85)
    estimator.on_remb(400_000, 2.5)
    assert estimator.target == 400_000


def test_with_twcc_a_remb_only_caps_and_rr_loss_is_ignored() -> None:
    estimator = BandwidthEstimator(start_bitrate=500_000)
    path = Path(estimator, rate=None)
    t = path.stream(0.0, 2.0, 400_000)
    estimator.on_remb(200_000, t)
    path.feedback(t)
    path.stream(t, 0.5, 400_000)
    assert estimator.target == 200_000
    estimator.on_loss_report(0.5, t + 0.6)
    assert estimator.loss_bound is None


def test_a_subscriber_that_stops_sending_feedback_loses_its_estimate() -> None:
    estimator = BandwidthEstimator(start_bitrate=1_000_000)
    path = Path(estimator, rate=None)
    t = path.stream(0.0, 2.0, 800_000)
    before = estimator.target
    estimator.update(t + 0.5)
    assert estimator.target == before  # not a stall yet
    for step in range(1, 21):  # 2 s more of sending, no feedback
        estimator.on_sent(path.seq, 1000, t + step * 0.1)
        path.seq += 1
        estimator.update(t + step * 0.1)
    assert estimator.target <= before * 0.8**2
    assert estimator.target >= estimator.min_bitrate


def test_a_stall_that_ends_with_clean_feedback_gives_the_estimate_back() -> None:
    estimator = BandwidthEstimator(start_bitrate=1_000_000)
    path = Path(estimator, rate=2_000_000)
    t = path.stream(0.0, 3.0, 800_000)
    before = estimator.target
    for step in range(1, 21):  # 2 s of sending without feedback: a busy browser
        path.send(1000, t + step * 0.1)
        estimator.update(t + step * 0.1)
    assert estimator.target <= before * 0.8**2
    path.stream(t + 2.1, 0.5, 800_000)  # feedback again: everything arrived
    assert estimator.target >= 0.9 * before


def test_probes_jump_the_estimate_and_saturated_ones_find_the_capacity() -> None:
    estimator = BandwidthEstimator(start_bitrate=300_000)
    path = Path(estimator, rate=2_000_000)
    t = path.stream(0.0, 1.0, 200_000)
    start = estimator.target
    clusters = estimator.probe(t, wanted=3_000_000, audio=100_000)
    assert [c.bitrate for c in clusters] == [3 * start, 6 * start]
    for cluster in clusters:  # what the pacer does: even packets at the cluster's rate
        size = -(-cluster.min_bytes // cluster.min_packets)  # the pacer sends min_bytes at least
        for _ in range(cluster.min_packets):
            path.send(size, t, cluster=cluster.id)
            t += size * 8 / cluster.bitrate
    path.stream(t, 0.5, 200_000)
    assert estimator.target == pytest.approx(6 * start, rel=0.1)
    # the next round (1.5× that) saturates a 2 Mbit/s link: the estimate lands just below it
    t += 0.5
    clusters = estimator.probe(t, wanted=3_000_000, audio=100_000)
    assert len(clusters) == 1 and clusters[0].bitrate > 2_500_000
    cluster = clusters[0]
    size = -(-cluster.min_bytes // cluster.min_packets)
    for _ in range(cluster.min_packets):
        path.send(size, t, cluster=cluster.id)
        t += size * 8 / cluster.bitrate
    path.stream(t, 0.5, 200_000)
    assert 1_700_000 < estimator.target < 2_000_000


def test_remb_mode_probes_are_long_padding_fills() -> None:
    estimator = BandwidthEstimator()
    assert estimator.probe(0.0, wanted=2_000_000) == []  # no feedback at all: nothing
    estimator.on_remb(500_000, 0.0)
    (fill,) = estimator.probe(5.0, wanted=2_000_000, audio=100_000)
    assert fill.bitrate == pytest.approx(0.9 * 500_000 - 100_000)
    assert fill.min_bytes == pytest.approx(fill.bitrate * 2.0 / 8, rel=0.01)


def test_sequence_numbers_wrap() -> None:
    estimator = BandwidthEstimator(start_bitrate=300_000)
    path = Path(estimator, rate=None)
    path.seq = 65_300
    path.stream(0.0, 10.0, 400_000)  # 500 packets: through 65535 → 0
    assert path.seq > 65_536
    assert estimator.acked_bitrate == pytest.approx(400_000, rel=0.05)


def test_reference_time_wrap_keeps_arrivals_monotonic() -> None:
    estimator = BandwidthEstimator()
    top = (1 << 24) - 1
    base = top * 0.064
    for seq in range(20):
        estimator.on_sent(seq, 1000, seq * 0.01)
    first = [(seq, base + seq * 0.01) for seq in range(10)]
    estimator.on_feedback(Feedback(0, 10, top, 0, first), 0.1)
    # the next feedback's reference wrapped to 0 (64 ms after `top`)
    wrapped = [(seq, 0.036 + (seq - 10) * 0.01) for seq in range(10, 20)]
    estimator.on_feedback(Feedback(10, 10, 0, 1, wrapped), 0.2)
    assert estimator.acked_bitrate == pytest.approx(800_000, rel=0.1)


def test_feedback_for_unknown_packets_is_ignored() -> None:
    estimator = BandwidthEstimator()
    estimator.on_feedback(Feedback(500, 2, 0, 0, [(500, 1.0), (501, None)]), 1.0)
    assert estimator.acked_bitrate is None and estimator.target == estimator._aimd.estimate


def test_a_standing_queue_pushes_the_target_below_the_estimate() -> None:
    estimator = BandwidthEstimator(start_bitrate=600_000)
    path = Path(estimator, rate=500_000)
    t = path.stream(0.0, 4.0, 600_000)  # 100 kbit/s too much for 4 s: ~0.8 s of queue
    path.stream(t, 1.0, 490_000)  # now just under the link: it drains very slowly
    queue = estimator.queue_delay
    assert queue > 0.5
    acked = estimator.acked_bitrate or 0.0
    assert estimator.target <= estimator.delay_based - 0.9 * (queue - 0.1) * acked


def test_aimd_increase_is_multiplicative_far_from_capacity_and_additive_near_it() -> None:
    aimd = AimdRateControl(1_000_000, 50_000, 10_000_000)
    aimd.update(Usage.NORMAL, None, 0.0)  # Hold → Increase
    aimd.update(Usage.NORMAL, None, 1.0)
    assert aimd.estimate == pytest.approx(1_080_000)
    aimd.update(Usage.OVERUSE, 1_000_000, 1.1)
    assert aimd.estimate == pytest.approx(850_000)
    aimd.update(Usage.NORMAL, 1_000_000, 1.2)
    aimd.update(Usage.NORMAL, 1_000_000, 2.2)
    assert 850_000 < aimd.estimate < 850_000 * 1.08  # near the 1 Mbit/s where it broke


def test_aimd_overuse_cuts_once_per_response_time_and_holds_on_transients() -> None:
    aimd = AimdRateControl(1_000_000, 50_000, 10_000_000)
    aimd.update(Usage.OVERUSE, 900_000, 0.0, transient=True)
    assert aimd.estimate == 1_000_000
    aimd.update(Usage.OVERUSE, 900_000, 0.1)
    assert aimd.estimate == pytest.approx(765_000)
    aimd.update(Usage.OVERUSE, 800_000, 0.15)
    assert aimd.estimate == pytest.approx(765_000)  # too soon for another cut


def test_aimd_ceiling_from_a_saturated_probe() -> None:
    aimd = AimdRateControl(500_000, 50_000, 10_000_000)
    aimd.set_ceiling(520_000, 0.0)
    for step in range(10):
        aimd.update(Usage.NORMAL, 500_000, step * 0.5)
    assert aimd.estimate == 520_000
    for step in range(10):
        aimd.update(Usage.NORMAL, 500_000, 11.0 + step * 0.5)  # the ceiling expired
    assert aimd.estimate > 520_000


def test_loss_bound_cuts_holds_and_disappears() -> None:
    loss = LossBasedControl(min_rate=50_000)
    loss.on_loss(0.05, 0.0, target=1_000_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound is None
    loss.on_loss(0.2, 1.0, target=1_000_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound == pytest.approx(900_000)
    loss.on_loss(0.2, 1.2, target=900_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound == pytest.approx(900_000)  # within RTT + 300 ms of the last cut
    loss.on_loss(0.05, 2.2, target=900_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound == pytest.approx(900_000)  # 2–10 %: hold
    loss.on_loss(0.0, 3.2, target=900_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound == pytest.approx(900_000 * 1.08 + 1000)
    loss.on_probe(990_000)
    assert loss.bound == 990_000
    loss.on_loss(0.0, 4.2, target=990_000, delay_based=1_000_000, rtt=0.1)
    assert loss.bound is None  # back at the delay-based estimate: no bound
