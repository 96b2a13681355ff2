"""A leaky-bucket pacer for one subscriber connection's video.

A keyframe or a layer switch puts tens of packets on the wire at once; on a
slow link they queue at the bottleneck and every packet behind them, audio
included, waits. The pacer spreads video at PACING_FACTOR × the target: a
bucket of credit refills at that rate and holds at most BURST seconds of it,
a packet goes out while credit is positive. Audio never comes here; it goes
out on arrival. The factor is 1.5, not libwebrtc's 2.5: an encoder's output
averages its target, but an SFU's allocation already sits just below ours,
so the pacer only has bursts to flatten, and at 2.5 × a keyframe still
queued at the bottleneck long enough for the delay detector to call it
overuse (the simulation showed layers flapping on every switch).

Cheap per packet: with credit and an empty queue, `enqueue` sends at once
(no timer, no allocation); otherwise packets wait in order and one timer
drains them. The queue is bounded: when it holds more than MAX_QUEUE_DELAY
of video at the pacing rate, the oldest packets are dropped and handed to
`on_drop` so the caller can ask for a keyframe on their lines (a frame
with a hole cannot be decoded; late video is worth less than fresh video).

Probes (probe.py): `probe(cluster)` sends at the cluster's rate until it has
sent its bytes and packets: queued video first, then padding asked from
`send_padding(size, cluster_id) -> bytes sent` (0 ends the probe; fewer
bytes than asked is fine: padding-only RTP packets carry at most 255, an
RTX copy of a recent packet carries more). While a probe's packet is being
sent, `probe_cluster` holds its id, so the send callbacks can tag it for
the estimator. Padding is not optional in practice: without it a probe is
only the few packets that happened to be queued and measures nothing, and
a limited subscriber stays where 1.5 × its acknowledged rate allows (in the
simulation: one of two videos paused on any link, 20 Mbit/s included).

Scheduling goes through `schedule(delay, callback) -> handle with cancel()`
(`loop.call_later` in the server, a simulated clock in tests) and time
through `now()`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from roomtone.sfu.bandwidth.probe import ProbeCluster

PACING_FACTOR = 1.5
BURST = 0.005  # seconds of credit the bucket holds: a burst is at most this plus one packet
MAX_QUEUE_DELAY = 0.4  # seconds of queued video at the pacing rate before the oldest is dropped
MIN_QUEUE_BYTES = 30_000  # ...but never fewer bytes than this (a keyframe must fit)
MIN_TIMER = 0.001
PROBE_PACKET = 1200  # padding asked per probe packet, at most


class Handle(Protocol):
    def cancel(self) -> None: ...


class _Probe:
    __slots__ = (
        "bytes_left",
        "cluster",
        "credit",
        "ended",
        "last",
        "max_packets",
        "packets",
        "padding",
        "rate",
    )

    def __init__(self, cluster: ProbeCluster, now: float) -> None:
        self.cluster = cluster
        self.rate = cluster.bitrate / 8
        self.bytes_left = cluster.min_bytes
        # Even packets: a rate over a few packets is skewed by one big one at either end.
        self.padding = min(PROBE_PACKET, max(-(-cluster.min_bytes // cluster.min_packets), 50))
        # Bounded even if the padding callback returns tiny packets.
        self.max_packets = 2 * (cluster.min_bytes // self.padding + cluster.min_packets) + 10
        self.packets = 0
        self.credit = self.rate * BURST
        self.last = now
        self.ended = False

    def done(self) -> bool:
        return (
            self.ended
            or self.packets >= self.max_packets
            or (self.bytes_left <= 0 and self.packets >= self.cluster.min_packets)
        )


class Pacer:
    """See the module docstring. Rates in bits/s, sizes in bytes, times in seconds."""

    def __init__(
        self,
        send_video: Callable[[Any], None],
        schedule: Callable[[float, Callable[[], None]], Handle],
        now: Callable[[], float],
        *,
        send_padding: Callable[[int, int], int] | None = None,
        on_drop: Callable[[list[Any]], None] | None = None,
        target: float = 300_000,
        factor: float = PACING_FACTOR,
    ) -> None:
        self._send = send_video
        self._schedule = schedule
        self._now = now
        self._send_padding = send_padding
        self._on_drop = on_drop
        self._factor = factor
        self._rate = factor * target / 8
        self._credit = self._rate * BURST
        self._last = now()
        self._queue: deque[tuple[Any, int]] = deque()
        self._queued_bytes = 0
        self._timer: Handle | None = None
        self._probes: deque[ProbeCluster] = deque()
        self._probe: _Probe | None = None
        self.probe_cluster: int | None = None
        self.dropped = 0

    @property
    def rate(self) -> float:
        """The pacing rate in bits/s."""
        return self._rate * 8

    @property
    def queue_delay(self) -> float:
        """Seconds the queued video needs at the pacing rate."""
        return self._queued_bytes / self._rate

    def __len__(self) -> int:
        return len(self._queue)

    def set_target(self, bits_per_s: float) -> None:
        """The estimate's target; the pacer drains at `factor` × this."""
        self._refill(self._now())
        self._rate = max(self._factor * bits_per_s / 8, 1000.0)

    def enqueue(self, packet: Any, size: int) -> None:
        """Hot path: send a video packet now if the bucket allows, else queue it in order."""
        if not self._queue and self._probe is None:
            now = self._now()
            credit = self._credit + (now - self._last) * self._rate
            cap = self._rate * BURST
            self._credit = cap if credit > cap else credit
            self._last = now
            if self._credit > 0:
                self._credit -= size
                self._send(packet)
                return
        self._queue.append((packet, size))
        self._queued_bytes += size
        self._trim()
        self._arm()

    def probe(self, cluster: ProbeCluster) -> None:
        """Send `cluster` (after any probe still running)."""
        self._probes.append(cluster)
        if self._probe is None:
            self._start_probe()
        self._arm(0.0)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._queued_bytes = 0
        self._probes.clear()
        self._probe = None

    # -- internals ------------------------------------------------------------------------

    def _refill(self, now: float) -> None:
        self._credit = min(self._credit + (now - self._last) * self._rate, self._rate * BURST)
        self._last = now

    def _arm(self, delay: float | None = None) -> None:
        if self._timer is not None:
            return
        if delay is None:
            if self._probe is not None:
                delay = max(-self._probe.credit / self._probe.rate, 0.0)
            else:
                delay = max(-self._credit / self._rate, 0.0)
        self._timer = self._schedule(max(delay, MIN_TIMER), self._drain)

    def _drain(self) -> None:
        self._timer = None
        now = self._now()
        self._refill(now)
        if self._probe is not None:
            self._drain_probe(now)
        if self._probe is None:
            queue = self._queue
            while queue and self._credit > 0:
                packet, size = queue.popleft()
                self._queued_bytes -= size
                self._credit -= size
                self._send(packet)
        if self._queue or self._probe is not None:
            self._arm()

    def _drain_probe(self, now: float) -> None:
        probe = self._probe
        assert probe is not None
        probe.credit = min(probe.credit + (now - probe.last) * probe.rate, probe.rate * BURST)
        probe.last = now
        self.probe_cluster = probe.cluster.id
        try:
            while probe.credit > 0 and not probe.done():
                if self._queue:
                    packet, size = self._queue.popleft()
                    self._queued_bytes -= size
                    self._send(packet)
                else:
                    want = probe.padding
                    size = self._send_padding(want, probe.cluster.id) if self._send_padding else 0
                    if size <= 0:
                        probe.ended = True  # no padding to be had: the probe ends here
                        break
                probe.credit -= size
                probe.bytes_left -= size
                probe.packets += 1
        finally:
            self.probe_cluster = None
        if probe.done():
            self._credit = min(self._credit, 0.0)  # the probe was this period's burst
            self._start_probe()

    def _start_probe(self) -> None:
        self._probe = None
        if self._probes:
            self._probe = _Probe(self._probes.popleft(), self._now())

    def _trim(self) -> None:
        limit = max(self._rate * MAX_QUEUE_DELAY, MIN_QUEUE_BYTES)
        if self._queued_bytes <= limit:
            return
        queue = self._queue
        dropped = []
        while self._queued_bytes > limit and len(queue) > 1:
            packet, size = queue.popleft()
            self._queued_bytes -= size
            dropped.append(packet)
        self.dropped += len(dropped)
        if self._on_drop is not None:
            self._on_drop(dropped)
