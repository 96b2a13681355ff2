"""remb.BurstEstimator: aiortc's REMB estimator fed one burst of packets at a time."""

from __future__ import annotations

from aiortc.rate import RemoteBitrateEstimator

from roomtone.sfu.remb import BurstEstimator

TICKS_PER_MS = 262.144  # abs-send-time is 6.18 fixed point seconds


def frames(
    seconds: float, kbps: int, delay_ms: float = 0.0, fps: int = 30
) -> list[tuple[int, int, int, int]]:
    """(arrival ms, abs-send-time, size, ssrc) of a video stream cut into 1200-byte packets,
    each frame's packets 20 µs apart; `delay_ms` of queueing builds up per second."""
    packets = []
    frame_bytes = kbps * 1000 // 8 // fps
    for n in range(int(seconds * fps)):
        sent = n * 1000 / fps
        queue = delay_ms * sent / 1000
        sizes = [1200] * (frame_bytes // 1200) + [frame_bytes % 1200 or 1200]
        for i, size in enumerate(sizes):
            at = sent + i * 0.02
            packets.append((int(at + 5 + queue), int(at * TICKS_PER_MS) & 0xFFFFFF, size, 1234))
    return packets


def estimates(estimator: object, packets: list[tuple[int, int, int, int]]) -> list[int]:
    out = []
    for arrival, abs_send_time, size, ssrc in packets:
        result = estimator.add(  # type: ignore[attr-defined]
            arrival_time_ms=arrival, abs_send_time=abs_send_time, payload_size=size, ssrc=ssrc
        )
        if result is not None:
            assert result[1] == [ssrc]
            out.append(result[0])
    return out


def test_bursts_give_the_estimate_packets_give() -> None:
    for delay in (0.0, 150.0):  # a clean link, and one whose queue grows (overuse)
        packets = frames(20, 1000, delay)
        reference = estimates(RemoteBitrateEstimator(), packets)
        burst = estimates(BurstEstimator(), packets)
        # aiortc answers every packet while it sees overuse, the burst estimator every 200 ms
        assert 5 < len(burst) <= len(reference) and len(burst) <= 20 * 5 + 1
        assert abs(burst[-1] - reference[-1]) <= 0.05 * reference[-1], (burst, reference)
    assert (
        estimates(BurstEstimator(), frames(20, 1000, 150.0))[-1]
        < estimates(BurstEstimator(), frames(20, 1000))[-1]
    )


def test_runs_end_at_another_ssrc_or_a_later_send_time() -> None:
    seen: list[tuple[int, int, int, int]] = []

    class Recorder:
        def add(
            self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
        ) -> None:
            seen.append((arrival_time_ms, abs_send_time, payload_size, ssrc))

    estimator = BurstEstimator()
    estimator._estimator = Recorder()  # type: ignore[assignment]
    for packet in [
        (10, 0xFFFFF0, 100, 1),
        (10, 5, 100, 1),
        (11, 10, 50, 1),
        (11, 12, 70, 2),
        (40, 8000, 10, 2),
        (41, 8001, 10, 2),
    ]:
        estimator.add(*packet)
    # the first run wraps the 24-bit clock; SSRC 2 starts its own; a frame later, another
    assert seen == [(11, 10, 250, 1), (11, 12, 70, 2)]
