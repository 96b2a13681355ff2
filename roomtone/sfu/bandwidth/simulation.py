"""A simulated subscriber downlink, for tests and tuning: the whole loop without a network.

Sender (the SFU's side of one subscriber connection): audio streams sent on
arrival, video lines whose layers the allocator picks from the estimate,
video through the pacer, probes with padding. Link: a bottleneck with a
rate (changeable over time), a drop-tail queue, random loss and
propagation delay, optionally a token bucket's burst (like the tests' TBF:
that many bytes pass at once after a quiet moment). Receiver: records
arrivals and sends TWCC feedback every 100 ms, or (REMB mode, like an
aiortc peer) runs its own delay-based estimate and sends REMB every 500 ms
and a receiver report every second.
Everything runs on a simulated clock; a run of a minute takes about a
second. `python -m roomtone.sfu.bandwidth.simulation` prints a few runs.

The sender's wiring (`Downlink`) is a reference for the packet path: what
to call, when, with what.
"""

from __future__ import annotations

import heapq
import itertools
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from roomtone.sfu.bandwidth.aimd import AimdRateControl
from roomtone.sfu.bandwidth.allocator import Allocator, Line
from roomtone.sfu.bandwidth.delay import DelayDetector, Usage
from roomtone.sfu.bandwidth.estimator import BandwidthEstimator
from roomtone.sfu.bandwidth.pacer import Pacer
from roomtone.sfu.bandwidth.throughput import RateMeter
from roomtone.sfu.bandwidth.twcc import FeedbackBuilder, parse_packet

LAYERS = (150_000.0, 500_000.0, 1_300_000.0)  # q, h, f: what a browser's simulcast sends
AUDIO_PACKET = 110  # bytes: Opus at ~32 kbit/s with RTP, extensions and SRTP
VIDEO_MTU = 1200
FPS = 30
TICK = 0.1  # the sender's control loop


class Clock:
    """An event queue over simulated seconds; `call_later` matches asyncio's."""

    def __init__(self) -> None:
        self.now = 0.0
        self._events: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(callback)
        heapq.heappush(self._events, (self.now + max(delay, 0.0), next(self._order), timer))
        return timer

    def every(self, interval: float, callback: Callable[[], None], start: float = 0.0) -> None:
        def run() -> None:
            callback()
            self.call_later(interval, run)

        self.call_later(start, run)

    def run_until(self, end: float) -> None:
        events = self._events
        while events and events[0][0] <= end:
            when, _, timer = heapq.heappop(events)
            self.now = when
            if not timer.cancelled:
                timer.callback()
        self.now = end


class _Timer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(slots=True)
class Packet:
    kind: str  # "audio", "video", "padding"
    size: int
    line: str = ""
    seq: int = 0
    sent: float = 0.0


class Link:
    """A bottleneck: a token bucket at `rate` (`burst` bytes deep; 0: plain serialization),
    a drop-tail queue, random loss, one-way delay."""

    def __init__(
        self,
        clock: Clock,
        deliver: Callable[[Packet, float], None],
        rate: float,
        *,
        delay: float = 0.02,
        loss: float = 0.0,
        queue_bytes: int = 150_000,
        jitter: float = 0.0,
        burst: int = 0,
        rng: random.Random,
    ) -> None:
        self.rate = rate
        self._clock, self._deliver, self._delay, self._loss = clock, deliver, delay, loss
        self._queue_bytes, self._jitter, self._rng = queue_bytes, jitter, rng
        self._burst = burst
        self._tokens = float(burst)
        self._free_at = 0.0
        self._last_arrival = 0.0

    def queue_delay(self) -> float:
        return max(self._free_at - self._clock.now, 0.0)

    def send(self, packet: Packet) -> None:
        now = self._clock.now
        if self._rng.random() < self._loss:
            return
        if self.queue_delay() * self.rate / 8 + packet.size > self._queue_bytes:
            return
        start = max(now, self._free_at)
        tokens = min(self._burst, self._tokens + (start - self._free_at) * self.rate / 8)
        if tokens >= packet.size:  # the bucket lets it through at once
            self._tokens = tokens - packet.size
            self._free_at = start
        else:
            self._tokens = 0.0
            self._free_at = start + (packet.size - tokens) * 8 / self.rate
        arrival = self._free_at + self._delay + self._rng.uniform(0, self._jitter)
        arrival = self._last_arrival = max(arrival, self._last_arrival)  # no reordering
        self._clock.call_later(arrival - now, lambda: self._deliver(packet, arrival))


class Receiver:
    """The subscriber: arrival statistics and its feedback (TWCC, or REMB + RR)."""

    def __init__(self, clock: Clock, downlink: Downlink, mode: str, delay: float) -> None:
        self._clock, self._downlink, self._delay = clock, downlink, delay
        self.audio_delays: list[tuple[float, float]] = []  # (arrival, one-way delay)
        self.video_bytes: dict[str, int] = {}
        self._builder = FeedbackBuilder()
        self._detector = DelayDetector()
        self._remb = AimdRateControl(300_000, 30_000, 20_000_000)
        self._incoming = RateMeter(window=1.0)
        self._seqs: list[int] = []
        if mode == "twcc":
            clock.every(0.1, self._send_twcc, 0.1)
        else:
            clock.every(0.5, self._send_remb, 0.5)
            clock.every(1.0, self._send_rr, 1.0)

    def on_packet(self, packet: Packet, arrival: float) -> None:
        if packet.kind == "audio":
            self.audio_delays.append((arrival, arrival - packet.sent))
        elif packet.kind == "video":
            self.video_bytes[packet.line] = self.video_bytes.get(packet.line, 0) + packet.size
        self._builder.record(packet.seq, arrival)
        self._detector.on_packet(packet.sent, arrival, packet.size)
        self._incoming.add(arrival, packet.size)
        self._seqs.append(packet.seq)

    def _back(self, callback: Callable[[], None]) -> None:
        self._clock.call_later(self._delay, callback)

    def _send_twcc(self) -> None:
        data = self._builder.build(1, 2)
        if data is not None:
            feedback = parse_packet(data)[2]
            self._back(lambda: self._downlink.estimator.on_feedback(feedback, self._clock.now))

    def _send_remb(self) -> None:
        now = self._clock.now
        usage = Usage.OVERUSE if self._detector.take_overuse() else self._detector.usage
        value = self._remb.update(usage, self._incoming.rate(now), now)
        self._back(lambda: self._downlink.estimator.on_remb(value, self._clock.now))

    def _send_rr(self) -> None:
        seqs, self._seqs = self._seqs, []
        if seqs:
            expected = max(seqs) - min(seqs) + 1
            fraction = max(0.0, 1 - len(set(seqs)) / expected)
            self._back(lambda: self._downlink.estimator.on_loss_report(fraction, self._clock.now))


class Downlink:
    """The sender side of one subscriber connection, wired as the packet path should be."""

    def __init__(
        self,
        clock: Clock,
        lines: int,
        audio_streams: int,
        rng: random.Random,
        layers: tuple[float, ...] = LAYERS,
    ) -> None:
        self._clock, self._rng = clock, rng
        self.layer_rates = layers
        self.estimator = BandwidthEstimator()
        self.allocator = Allocator()
        self.pacer = Pacer(
            self._send_video,
            clock.call_later,
            lambda: clock.now,
            send_padding=self._send_padding,
            on_drop=self._dropped,
            target=self.estimator.target,
        )
        self.link: Link | None = None
        self.lines = [f"v{i}" for i in range(lines)]
        self.layers: dict[str, int | None] = {}
        self._keyframe: set[str] = set(self.lines)
        self._seq = 0
        self.audio_rate = audio_streams * AUDIO_PACKET * 8 * 50
        self.padding_bytes = 0
        for stream in range(audio_streams):
            clock.every(0.02, self._send_audio, 0.001 * stream)
        for index, line in enumerate(self.lines):
            clock.every(1 / FPS, lambda line=line: self._frame(line), 0.003 + 0.007 * index)
        clock.every(TICK, self._control, 0.0)

    def _control(self) -> None:
        now = self._clock.now
        estimator = self.estimator
        estimator.update(now)
        lines = [Line(key, key, self.layer_rates) for key in self.lines]
        allocation = self.allocator.allocate(estimator.target - self.audio_rate, lines, now)
        for key, layer in allocation.layers.items():
            if layer is not None and layer != self.layers.get(key):
                self._keyframe.add(key)  # a switch waits for the new layer's keyframe
            self.layers[key] = layer
        self.pacer.set_target(estimator.target)
        for cluster in estimator.probe(now, allocation.wanted, self.audio_rate):
            self.pacer.probe(cluster)

    def _frame(self, line: str) -> None:
        layer = self.layers.get(line)
        if layer is None:
            return
        size = int(self.layer_rates[layer] / 8 / FPS * self._rng.uniform(0.7, 1.3))
        if line in self._keyframe:
            self._keyframe.discard(line)
            size *= 4
        while size > 0:
            chunk = min(size, VIDEO_MTU)
            self.pacer.enqueue(Packet("video", chunk + 40, line), chunk + 40)
            size -= chunk

    def _send_audio(self) -> None:
        self._transmit(Packet("audio", AUDIO_PACKET), None)

    def _send_video(self, packet: Packet) -> None:
        self._transmit(packet, self.pacer.probe_cluster)

    def _send_padding(self, size: int, cluster: int) -> int:
        self.padding_bytes += size
        self._transmit(Packet("padding", size), cluster)
        return size

    def _dropped(self, packets: list[Packet]) -> None:
        self._keyframe.update(p.line for p in packets)

    def _transmit(self, packet: Packet, cluster: int | None) -> None:
        now = self._clock.now
        packet.seq = self._seq & 0xFFFF
        packet.sent = now
        self._seq += 1
        self.estimator.on_sent(packet.seq, packet.size, now, cluster)
        assert self.link is not None
        self.link.send(packet)


@dataclass
class Trace:
    """What the run looked like, sampled every TICK."""

    times: list[float] = field(default_factory=list)
    targets: list[float] = field(default_factory=list)
    layers: list[dict[str, int | None]] = field(default_factory=list)
    link_rates: list[float] = field(default_factory=list)
    audio_sent: int = 0
    audio_delays: list[tuple[float, float]] = field(default_factory=list)
    padding_bytes: int = 0
    dropped: int = 0

    def window(self, start: float, end: float) -> range:
        return range(
            next((i for i, t in enumerate(self.times) if t >= start), len(self.times)),
            next((i for i, t in enumerate(self.times) if t > end), len(self.times)),
        )

    def target_stats(self, start: float, end: float) -> tuple[float, float, float]:
        """10th percentile, median, 90th percentile of the target."""
        values = sorted(self.targets[i] for i in self.window(start, end))
        deciles = statistics.quantiles(values, n=10)
        return deciles[0], statistics.median(values), deciles[-1]

    def paused_share(self, line: str, start: float, end: float) -> float:
        window = self.window(start, end)
        return sum(self.layers[i].get(line) is None for i in window) / len(window)

    def first_time(self, start: float, predicate: Callable[[dict[str, int | None]], bool]) -> float:
        for i in self.window(start, float("inf")):
            if predicate(self.layers[i]):
                return self.times[i]
        return float("inf")

    def audio_delay(self, start: float, end: float, quantile: float = 0.95) -> float:
        delays = sorted(d for at, d in self.audio_delays if start <= at <= end)
        return delays[min(int(quantile * len(delays)), len(delays) - 1)]

    def audio_received_share(self) -> float:
        return len(self.audio_delays) / self.audio_sent


def run(
    rates: list[tuple[float, float]],
    duration: float,
    *,
    loss: float = 0.0,
    delay: float = 0.02,
    mode: str = "twcc",
    lines: int = 2,
    audio_streams: int = 2,
    queue_bytes: int = 150_000,
    jitter: float = 0.0,
    burst: int = 0,
    seed: int = 1,
    layers: tuple[float, ...] = LAYERS,
) -> Trace:
    """Simulate `duration` seconds; `rates` is [(from time, link bits/s), …] starting at 0."""
    rng = random.Random(seed)
    clock = Clock()
    downlink = Downlink(clock, lines, audio_streams, rng, layers)
    receiver = Receiver(clock, downlink, mode, delay)
    link = Link(
        clock,
        receiver.on_packet,
        rates[0][1],
        delay=delay,
        loss=loss,
        queue_bytes=queue_bytes,
        jitter=jitter,
        burst=burst,
        rng=rng,
    )
    downlink.link = link
    for at, rate in rates[1:]:
        clock.call_later(at, lambda rate=rate: setattr(link, "rate", rate))
    trace = Trace()

    def sample() -> None:
        trace.times.append(clock.now)
        trace.targets.append(downlink.estimator.target)
        trace.layers.append(dict(downlink.layers))
        trace.link_rates.append(link.rate)

    clock.every(TICK, sample, 0.05)
    clock.run_until(duration)
    trace.audio_sent = int(duration / 0.02) * audio_streams
    trace.audio_delays = receiver.audio_delays
    trace.padding_bytes = downlink.padding_bytes
    trace.dropped = downlink.pacer.dropped
    return trace


def _report(name: str, trace: Trace, start: float, end: float) -> None:
    low, mid, high = trace.target_stats(start, end)
    paused = max(trace.paused_share(line, start, end) for line in ("v0", "v1"))
    print(
        f"{name}: target p10/p50/p90 {low / 1000:.0f}/{mid / 1000:.0f}/{high / 1000:.0f} kbit/s,"
        f" paused {paused:.0%}, audio p95 delay {trace.audio_delay(start, end) * 1000:.0f} ms,"
        f" audio received {trace.audio_received_share():.1%}, padding {trace.padding_bytes} B,"
        f" pacer drops {trace.dropped}"
    )


if __name__ == "__main__":
    _report("500k 2% loss", run([(0, 500_000)], 60, loss=0.02), 20, 60)
    tbf = {"burst": 3028, "queue_bytes": 12_500}  # tests/netshape.py's TBF at 500 kbit/s
    _report("500k 2% loss, TBF", run([(0, 500_000)], 60, loss=0.02, **tbf), 20, 60)
    _report("150k", run([(0, 150_000)], 60), 20, 60)
    lifted = run([(0, 150_000), (30, 20_000_000)], 60)
    top = lifted.first_time(30, lambda layers: all(v == 2 for v in layers.values()))
    print(f"lifted at 30 s: top layer on both lines at {top:.1f} s")
    _report("unconstrained", run([(0, 20_000_000)], 30), 10, 30)
    _report("REMB 500k 2% loss", run([(0, 500_000)], 60, loss=0.02, mode="remb"), 20, 60)
    _report("REMB 150k", run([(0, 150_000)], 60, mode="remb"), 20, 60)
