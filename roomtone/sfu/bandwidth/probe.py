"""Probing: finding out quickly that a link carries more than we send.

An SFU is usually application-limited: it sends the layers the estimate
allows, and the estimate may only grow to 1.5 × what gets acknowledged
(aimd.py), 8 %/s at best. From 150 kbit/s that is half a minute to the
top layer. So when the allocation is limited by the estimate, the pacer
sends a cluster (200 ms, at least 10 packets) at a multiple of the
estimate, media first and padding for the rest, and the feedback on those
packets says what got through. If everything arrived as fast as it was
sent and the delay detector saw no overuse, the estimate jumps to that
rate. If it arrived slower (the probe saturated the link), the arrival
rate is the link's capacity: the estimate goes to just below it, and no
increase goes beyond it for a while; the overuse the probe itself caused
does not count as congestion (estimator.py).

Only the second half of a cluster is measured, and the cluster is long
for that: a bottleneck that is a token bucket (most shapers and policers,
and the tests' TBF) lets its bucket's worth through at once, so the first
packets of any probe arrive as fast as they were sent, whatever the
link's rate. A 40 ms probe at 740 kbit/s through a 500 kbit/s TBF with a
3 KB bucket measured 740 kbit/s, the allocation took it, and a layer
flapped every few seconds; by the second half of 200 ms the bucket is
empty and the arrivals show the link.

`ProbeController` decides when: exponential probing at the start (3× and
6× the start estimate, then 1.5× whatever a successful probe reached, up to
what the allocation would use), then, while the allocation stays limited
and the estimate has not dropped for a few seconds (the link is stable),
one probe at 1.5× every few seconds; a probe that fails (the link is where
we thought) doubles that interval, up to PERIODIC_MAX. When what the
allocation would use jumps (DEMAND_JUMP: a new publication, often a
single-layer one of a Mbit/s or more that fits nothing yet), the next
probe goes at once instead of after the interval: that line waits for it. 1.5×, not 2×: on a
link that stays where it is every periodic probe queues (rate − link) ×
100 ms ahead of the audio (at 2× of 415 kbit/s on 500: 66 ms, enough for
the receiver to conceal some audio each time). At low rates a token
bucket's burst is longer than a probe (3 KB is 160 ms of 150 kbit/s), so a
periodic probe there "succeeds" whatever the link; the next one, at 2×,
then queued 200-300 ms of it ahead of the audio. At 1.5× per step the
simulation's 150 kbit/s TBF had 1.5 % of audio over 100 ms late instead of
4 %, and a lifted link is still found within a few seconds (7 steps of
1.5× from 150 kbit/s to 2.5 Mbit/s, a few hundred ms each). A probe costs a
short burst; a link that was lifted is found within one interval.

`ProbeEvaluator` measures a cluster from the feedback on its packets.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

PROBE_DURATION = 0.1  # seconds a cluster lasts at its rate
PROBE_MIN_PACKETS = 10
PERIODIC_INTERVAL = 4.0  # between probes while limited and stable...
PERIODIC_MAX = 6.0  # ...doubled after each probe that found nothing, up to this
PERIODIC_GAIN = 1.5  # a periodic probe's rate over the estimate...
CHAIN_GAIN = 1.5  # ...and, after a success, the next one's over the new estimate
DEMAND_JUMP = 1.3  # `wanted` grew this much since the last call: probe now
STABLE_FOR = 3.0  # no estimate drop for this long before a periodic probe
RESULT_TIMEOUT = 1.0  # a probe whose result has not come by then failed
_SUCCESS = 0.7  # a probe succeeded when the estimate reached this share of its rate
_WANTED_HEADROOM = 1.5  # probing beyond what the allocation would use is a waste
# The allocator steps up only with a margin (allocator.UP_MARGIN, 1.15, on the video): an
# estimate that merely covers what the allocation would use leaves the top layer out of
# reach, and the estimate itself may not grow past 1.5 × what is sent (aimd.py).
_ALLOCATOR_MARGIN = 1.2
FILL_DURATION = 2.0  # seconds of each padding cluster up to the estimate, without TWCC...
FILL_SHARE = 0.9  # ...to this share of it (audio comes on top)


@dataclass(frozen=True, slots=True)
class ProbeCluster:
    """Send at least `min_bytes` in `min_packets` or more at `bitrate`, tagged `id`."""

    id: int
    bitrate: float
    min_bytes: int
    min_packets: int = PROBE_MIN_PACKETS


class ProbeController:
    """When to probe and at which rates (see the module docstring)."""

    def __init__(self, max_rate: float, interval: float = PERIODIC_INTERVAL) -> None:
        self._max_rate = max_rate
        self._base_interval = interval
        self._interval = interval
        self._next_id = 1
        self._initial_done = False
        self._waiting: tuple[float, float] | None = None  # (sent at, highest rate probed)
        self._last_probe = float("-inf")
        self._last_drop = float("-inf")
        self._last_estimate = 0.0
        self._last_wanted = 0.0

    def process(self, now: float, estimate: float, wanted: float) -> list[ProbeCluster]:
        """Clusters to send now; `wanted` is what the allocation would use unconstrained."""
        self._track(now, estimate)
        if wanted > DEMAND_JUMP * self._last_wanted:
            self._last_probe = float("-inf")  # new demand: no periodic wait
        self._last_wanted = wanted
        if wanted * _ALLOCATOR_MARGIN <= estimate:
            self._waiting = None
            return []
        cap = min(self._max_rate, wanted * _WANTED_HEADROOM)
        if self._waiting is not None:
            sent_at, rate = self._waiting
            if estimate >= _SUCCESS * rate:
                self._interval = self._base_interval
                if rate < cap:
                    return self._clusters(now, [CHAIN_GAIN * estimate], estimate, cap)
                self._waiting = None
            elif now - sent_at < RESULT_TIMEOUT:
                return []
            else:
                self._waiting = None
                self._interval = min(2 * self._interval, max(PERIODIC_MAX, self._base_interval))
        if not self._initial_done:
            self._initial_done = True
            return self._clusters(now, [3 * estimate, 6 * estimate], estimate, cap)
        if now - self._last_probe >= self._interval and now - self._last_drop >= STABLE_FOR:
            return self._clusters(now, [PERIODIC_GAIN * estimate], estimate, cap)
        return []

    def fill(
        self, now: float, estimate: float, wanted: float, outside: float = 0.0
    ) -> list[ProbeCluster]:
        """Without per-packet feedback (REMB): a long cluster that pads up to the estimate.

        A probe cannot be measured then; instead the receiver's own estimator,
        which never grows beyond 1.5 × what it receives, is given room to grow.
        `outside`: bits/s sent around the pacer (audio), left out of the fill.
        """
        self._track(now, estimate)
        if wanted <= estimate or now - self._last_probe < FILL_DURATION:
            return []
        if now - self._last_drop < STABLE_FOR:
            return []
        rate = FILL_SHARE * estimate - outside
        if rate <= 0:
            return []
        self._last_probe = now
        cluster = ProbeCluster(self._next_id, rate, int(rate * FILL_DURATION / 8))
        self._next_id += 1
        return [cluster]

    def _track(self, now: float, estimate: float) -> None:
        if estimate < 0.95 * self._last_estimate:
            self._last_drop = now
        self._last_estimate = estimate

    def _clusters(
        self, now: float, rates: list[float], estimate: float, cap: float
    ) -> list[ProbeCluster]:
        chosen = sorted({min(rate, cap) for rate in rates if min(rate, cap) > 1.1 * estimate})
        self._waiting = None
        if not chosen:
            return []
        self._waiting = (now, chosen[-1])
        self._last_probe = now
        clusters = []
        for rate in chosen:
            clusters.append(ProbeCluster(self._next_id, rate, int(rate * PROBE_DURATION / 8)))
            self._next_id += 1
        return clusters


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a cluster measured: the link carried `bitrate`; `saturated` if it carried less
    than was sent (then `bitrate` is just below that: a capacity, not a lower bound)."""

    cluster_id: int
    bitrate: float
    saturated: bool


@dataclass(slots=True)
class _Cluster:
    spec: ProbeCluster
    started: float
    sent_packets: int = 0
    sent_bytes: int = 0
    max_seq: int = -1
    last_send: float = 0.0
    received: list[tuple[float, float, int]] = field(default_factory=list)

    def complete(self) -> bool:
        return self.sent_packets >= self.spec.min_packets and self.sent_bytes >= self.spec.min_bytes


class ProbeEvaluator:
    """Measures clusters from the feedback: what the link carried while each was sent.

    The rates count every acknowledged packet in the cluster's span, not only
    its own: audio and media share the link during a probe, and on a slow
    link they are a large part of what it carries.
    """

    MIN_RECEIVED_SHARE = 0.8
    RECENT = 2000  # acknowledged packets kept for the window sums

    def __init__(self) -> None:
        self._clusters: dict[int, _Cluster] = {}
        self._recent: deque[tuple[float, float, int]] = deque(maxlen=self.RECENT)

    @property
    def pending(self) -> bool:
        """Some cluster is being sent or waits for its feedback."""
        return bool(self._clusters)

    def start(self, spec: ProbeCluster, now: float) -> None:
        self._clusters[spec.id] = _Cluster(spec, now)

    def on_sent(self, cluster_id: int, seq: int, size: int, now: float) -> None:
        cluster = self._clusters.get(cluster_id)
        if cluster is not None:
            cluster.sent_packets += 1
            cluster.sent_bytes += size
            cluster.max_seq = seq
            cluster.last_send = now

    def on_acked(self, cluster_id: int | None, send: float, arrival: float, size: int) -> None:
        """Every acknowledged packet, probe or not (only while a cluster is pending)."""
        if not self._clusters:
            return
        self._recent.append((send, arrival, size))
        if cluster_id is not None:
            cluster = self._clusters.get(cluster_id)
            if cluster is not None:
                cluster.received.append((send, arrival, size))

    def finished(self, highest_reported: int, now: float) -> list[ProbeResult]:
        """Results of clusters now fully reported; failed ones are dropped."""
        results = []
        for cluster_id, cluster in list(self._clusters.items()):
            reported = cluster.complete() and highest_reported >= cluster.max_seq
            stale = now - max(cluster.last_send, cluster.started) > RESULT_TIMEOUT
            if not (reported or stale):
                continue
            del self._clusters[cluster_id]
            result = self._measure(cluster)
            if result is not None:
                results.append(result)
        if not self._clusters:
            self._recent.clear()
        return results

    def _measure(self, cluster: _Cluster) -> ProbeResult | None:
        received = cluster.received
        if len(received) < max(3, self.MIN_RECEIVED_SHARE * cluster.sent_packets):
            return None
        # The second half in send order (see the module docstring: a bucket's burst).
        received = sorted(received)[len(received) // 2 :]
        if len(received) < 3:
            return None
        first_send = min(send for send, _, _ in received)
        last_send = max(send for send, _, _ in received)
        first_arrival = min(arrival for _, arrival, _ in received)
        last_arrival = max(arrival for _, arrival, _ in received)
        if last_send <= first_send or last_arrival <= first_arrival:
            return None
        # What left in [first, last) and what arrived in (first, last]: the size of the
        # packet at the open end belongs to the gap before the span, not inside it.
        sent = sum(size for send, _, size in self._recent if first_send <= send < last_send)
        got = sum(size for _, at, size in self._recent if first_arrival < at <= last_arrival)
        send_rate = sent * 8 / (last_send - first_send)
        arrival_rate = got * 8 / (last_arrival - first_arrival)
        if arrival_rate < 0.9 * send_rate:  # the link saturated: sit just below what it carried
            return ProbeResult(cluster.spec.id, 0.95 * arrival_rate, True)
        return ProbeResult(cluster.spec.id, min(send_rate, arrival_rate), False)
