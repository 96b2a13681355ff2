"""The send-side bandwidth estimate of one subscriber connection.

Why TWCC first: with transport-wide feedback the *sender* sees the send
and arrival time of every packet it sent, so the whole estimate runs here,
where the packets are chosen: the delay detector sees the exact bursts the
pacer made, probes can be measured packet by packet, loss is counted per
packet instead of per RTCP interval, and the acknowledged throughput is
known, which is what a decrease must aim below. With REMB the receiver runs
its own estimator and tells us a number every half second or so; we cannot
measure a probe (no per-packet feedback), cannot tell a burst from
congestion, and the receiver's estimator (aiortc's, Chrome's old one) never
grows beyond 1.5 × what it receives and cuts to 0.85 × that on any burst.
Chrome negotiates TWCC; aiortc peers do not, so REMB stays as the fallback:
the target follows the REMB (capped by the RR loss bound) and, when the
allocation is limited, padding fills the connection up to 90 % of it for
two seconds at a time so the receiver's estimate has room to grow (8 %/s:
tens of seconds to the top layer instead of a few).

Inputs, all with `now` in seconds:
- `on_sent` for every packet sent on the connection (audio too), with its
  transport-wide sequence number and size in bytes (the RTP packet as
  sent, the same accounting as the layers' bitrates), and the probe cluster
  it belongs to (`Pacer.probe_cluster`);
- `on_feedback` for each parsed TWCC feedback;
- `on_remb` for REMB, `on_loss_report` for the fraction lost (0..1) of each
  receiver report block, `on_rtt` when SR/RR give one;
- `update(now)` every 100 ms or so: stalls (no feedback while sending).

A stall cuts the target (the subscriber may be gone, or its link dead),
but the cut is provisional: when TWCC feedback comes back and shows the
packets sent meanwhile arrived (little loss, no standing queue), the bound
the stall set goes away. A browser starved of CPU on a busy machine (or a
tab that hiccups) stops sending feedback for a second or two while its
link is fine, and recovering at 8 %/s from the floor paused its videos
for half a minute.

Modes: once any TWCC feedback arrived, the delay-based estimate is ours
(delay.py, aimd.py, probe.py) and the loss-based bound (loss.py) counts
TWCC losses; a REMB, if one comes too, only caps it. Without TWCC the
delay-based estimate is the REMB value and the loss bound counts RR losses;
before either, it is the start bitrate. `target` is the minimum of the
delay-based estimate and the loss bound, less a pushback while a standing
queue (the smallest one-way delay of a feedback above its 10-second
minimum) exceeds 100 ms, so a link that shrank under us drains in about a
second; it is what the allocator splits.

Loss is counted only on packets sent after the target last fell
(CUT_SHARE): when a link shrinks under us, the queue overflows for a
moment and the feedback keeps reporting those losses for a few hundred ms
after the delay-based cut has already corrected the rate. Counted again,
they cut the loss bound twice more, to well below the link (traced on the
500 kbit/s weak link: 1.7 Mbit/s → 377 kbit/s by delay, then 244 and 218 by
stale loss, one video paused for five seconds while the link carried both).

An SFU is application-limited most of the time (discrete layers under the
estimate), so an overuse often comes from a burst (a keyframe, a layer
switch) over an average the link carries. When the feedback shows the link
delivered what we sent (acknowledged ≥ 90 % of the send rate over the same
packets) and no queue stands, the delay-based estimate holds instead of
dropping to 0.85 × an application-limited rate, which would pause a layer
that fits. An overuse right after a probe is the probe's own queue.
"""

from __future__ import annotations

from collections import OrderedDict

from roomtone.sfu.bandwidth.aimd import AimdRateControl
from roomtone.sfu.bandwidth.delay import DelayDetector, StandingQueue, Usage
from roomtone.sfu.bandwidth.loss import HIGH_LOSS, LossBasedControl
from roomtone.sfu.bandwidth.probe import ProbeCluster, ProbeController, ProbeEvaluator
from roomtone.sfu.bandwidth.throughput import RateMeter
from roomtone.sfu.bandwidth.twcc import TICK, TICKS_PER_REFERENCE, Feedback, SequenceUnwrapper

START_BITRATE = 300_000
MIN_BITRATE = 50_000
MAX_BITRATE = 10_000_000
HISTORY = 3.0  # seconds a sent packet waits for its feedback
_HISTORY_MAX = 20_000
LOSS_WINDOW_PACKETS = 100  # a loss fraction over fewer packets is noise...
LOSS_WINDOW_TIME = 1.0  # ...unless this much time passed (with at least 20)
REMB_VALID = 5.0  # a REMB caps a TWCC estimate this long
STALL_TWCC = 1.0  # no TWCC feedback for this long while sending: the subscriber stalled
STALL_OTHER = 4.0  # without TWCC, no REMB or RR for this long
STALL_CUT = 0.8  # each half second of a stall takes this factor off the target
DELIVERED = 0.9  # acked/sent above this, and no standing queue: an overuse is a burst
STANDING_QUEUE = 0.1  # seconds of standing queue that make it congestion, and...
PUSHBACK_DRAIN = 1.0  # ...push the target down to drain the excess within about this long
PROBE_MEMORY = 1.0  # seconds a probe result still explains an overuse
CUT_SHARE = 0.9  # the target fell below this share of itself: a cut (losses before it are old)
_REFERENCE_WRAP = (1 << 24) * TICKS_PER_REFERENCE * TICK
_UNREPORTED, _LOST, _RECEIVED = 0, 1, 2


class BandwidthEstimator:
    """See the module docstring."""

    def __init__(
        self,
        start_bitrate: float = START_BITRATE,
        min_bitrate: float = MIN_BITRATE,
        max_bitrate: float = MAX_BITRATE,
    ) -> None:
        self.min_bitrate = min_bitrate
        self.max_bitrate = max_bitrate
        self.target = float(start_bitrate)
        self.rtt = 0.1
        self.acked_bitrate: float | None = None
        self.usage = Usage.NORMAL
        self._aimd = AimdRateControl(start_bitrate, min_bitrate, max_bitrate)
        self._loss = LossBasedControl(min_bitrate)
        self._delay = DelayDetector()
        self._acked = RateMeter(window=0.5)  # by arrival time, in the receiver's clock
        self._sent = RateMeter(window=0.5)  # the same reported packets, by send time
        self._queue = StandingQueue()
        self._controller = ProbeController(max_bitrate)
        self._evaluator = ProbeEvaluator()
        self._unwrapper = SequenceUnwrapper()
        # unwrapped seq → [send time, size, probe cluster, _UNREPORTED/_LOST/_RECEIVED]
        self._history: OrderedDict[int, list] = OrderedDict()
        self._last_sent: float | None = None
        self._twcc_at: float | None = None
        self._remb: float | None = None
        self._remb_at: float | None = None
        self._report_at: float | None = None
        self._rtt_given = False
        self._loss_reported = 0
        self._loss_lost = 0
        self._loss_since: float | None = None
        self._last_reference: int | None = None
        self._reference_offset = 0.0
        self._last_stall_cut: float | None = None
        self._stalled = False  # the loss bound is a stall's, until feedback says otherwise
        self._probed: tuple[float, float] | None = None  # (when, rate) of the last probe result
        self._cut_at = float("-inf")  # the target's last cut: losses of packets sent before it
        self._level = float(start_bitrate)  # the target before pushback, to tell a cut

    @property
    def mode(self) -> str:
        """What drives the estimate: "twcc", "remb" or "none" (start bitrate, RR loss)."""
        if self._twcc_at is not None:
            return "twcc"
        return "remb" if self._remb is not None else "none"

    @property
    def delay_based(self) -> float:
        if self._twcc_at is None and self._remb is not None:
            return self._remb
        return self._aimd.estimate

    @property
    def loss_bound(self) -> float | None:
        return self._loss.bound

    @property
    def queue_delay(self) -> float:
        """Seconds of standing queue at the bottleneck, from the last feedback."""
        return self._queue.delay

    # -- inputs ---------------------------------------------------------------------------

    def on_sent(
        self, transport_seq: int, size: int, now: float, probe_cluster: int | None = None
    ) -> None:
        """Hot path: one packet left on this connection (any kind)."""
        seq = self._unwrapper.unwrap(transport_seq & 0xFFFF)
        history = self._history
        history[seq] = [now, size, probe_cluster, _UNREPORTED]
        self._last_sent = now
        if probe_cluster is not None:
            self._evaluator.on_sent(probe_cluster, seq, size, now)
        horizon = now - HISTORY
        while history:
            oldest = next(iter(history.values()))
            if oldest[0] >= horizon and len(history) <= _HISTORY_MAX:
                break
            history.popitem(last=False)

    def on_feedback(self, feedback: Feedback, now: float) -> None:
        self._twcc_at = now
        stalled, self._stalled = self._stalled, False
        offset = self._reference(feedback.reference_time)
        delay, acked, sent, evaluator = self._delay, self._acked, self._sent, self._evaluator
        reported = lost = counted = counted_lost = 0
        highest = -1
        newest_send: float | None = None
        last_arrival: float | None = None
        lowest = float("inf")
        for seq16, arrival in feedback.packets:
            seq = self._unwrapper.unwrap(seq16, advance=False)
            entry = self._history.get(seq)
            if entry is None or entry[3] == _RECEIVED:
                continue  # unknown, too old, or acknowledged already
            highest = max(highest, seq)
            fresh = entry[0] >= self._cut_at  # sent at the rate the target allows now
            if entry[3] == _UNREPORTED:
                reported += 1
                counted += fresh
                sent.add(entry[0], entry[1])
            if arrival is None:
                if entry[3] == _UNREPORTED:
                    lost += 1
                    counted_lost += fresh
                    entry[3] = _LOST
                continue
            entry[3] = _RECEIVED  # (a packet reported lost may still turn up: late, not lost)
            send, size, cluster = entry[0], entry[1], entry[2]
            arrival += offset
            delay.on_packet(send, arrival, size)
            acked.add(arrival, size)
            evaluator.on_acked(cluster, send, arrival, size)
            newest_send = send if newest_send is None else max(newest_send, send)
            lowest = min(lowest, arrival - send)
            last_arrival = arrival if last_arrival is None else max(last_arrival, arrival)
        if newest_send is not None and not self._rtt_given:
            sample = max(now - newest_send, 0.001)
            self.rtt = 0.8 * self.rtt + 0.2 * sample
        if last_arrival is not None:
            self.acked_bitrate = acked.rate(last_arrival)
            self._queue.update(lowest, now)
        sent_rate = None if newest_send is None else sent.rate(newest_send)
        if stalled and reported and lost < HIGH_LOSS * reported:
            if self._queue.delay < STANDING_QUEUE:
                self._loss.bound = None  # the link was fine: the subscriber only fell silent
        self._count_loss(counted, counted_lost, now)
        self.usage = Usage.OVERUSE if delay.take_overuse() else delay.usage
        for result in evaluator.finished(highest, now):
            rate = result.bitrate
            self._probed = (now, rate)
            if result.saturated:
                # It pushed past the link, so the delay grew by design: what arrived is
                # the link's capacity, and the estimate goes just below it.
                self._aimd.set_ceiling(rate, now)
                self._aimd.set_estimate(rate, now)
                self._loss.on_probe(rate)
            elif self.usage is not Usage.OVERUSE and rate > self._aimd.estimate:
                self._aimd.set_estimate(rate, now)  # all of it got through, the delay did not grow
                self._loss.on_probe(rate)
        self._aimd.rtt = self.rtt
        if self.usage is Usage.OVERUSE and self._probe_explains(now):
            # The probe's own queue. Its measurement (now or when its feedback is in) says
            # what the link carries: a better estimate than a cut from what we happened to send.
            if self._probed is not None and now - self._probed[0] < PROBE_MEMORY:
                self._aimd.set_estimate(min(self._aimd.estimate, self._probed[1]), now)
        else:
            acked_rate = self.acked_bitrate
            transient = (
                acked_rate is not None
                and sent_rate is not None
                and acked_rate >= DELIVERED * sent_rate
                and self._queue.delay < STANDING_QUEUE
            )
            self._aimd.update(self.usage, acked_rate, now, transient)
        self._update_target(now)

    def on_remb(self, bitrate: float, now: float) -> None:
        self._remb = float(bitrate)
        self._remb_at = now
        self._update_target(now)

    def on_loss_report(self, fraction_lost: float, now: float) -> None:
        """One RR block's fraction lost (0..1); ignored while TWCC counts every packet."""
        self._report_at = now
        if self._twcc_at is None:
            self._loss.on_loss(
                fraction_lost,
                now,
                target=self.target,
                delay_based=self.delay_based,
                rtt=self.rtt,
            )
            self._update_target(now)

    def on_rtt(self, rtt: float, now: float) -> None:
        """An RTT measured from SR/RR (preferred over the feedback-based guess)."""
        self.rtt = max(rtt, 0.001)
        self._rtt_given = True

    def update(self, now: float) -> None:
        """Periodic: while packets go out and no feedback comes back, cut the target."""
        if self._last_sent is None:
            return
        if self._twcc_at is not None:
            last, limit = self._twcc_at, STALL_TWCC
        else:
            heard = [t for t in (self._remb_at, self._report_at) if t is not None]
            last, limit = (max(heard) if heard else None), STALL_OTHER
        if last is None or now - last < limit or self._last_sent <= last:
            return
        if self._last_stall_cut is not None and now - self._last_stall_cut < 0.5:
            return
        self._last_stall_cut = now
        self._stalled = self._twcc_at is not None
        bound = self.target if self._loss.bound is None else min(self._loss.bound, self.target)
        self._loss.bound = max(self.min_bitrate, bound * STALL_CUT)
        self._update_target(now)

    # -- probing --------------------------------------------------------------------------

    def probe(self, now: float, wanted: float, audio: float = 0.0) -> list[ProbeCluster]:
        """Probe clusters to hand to the pacer now (usually none).

        `wanted`: video bits/s the subscriber would receive if the estimate were
        no limit (every line at its top layer: `Allocation.wanted`); `audio`:
        bits/s of audio, which goes around the pacer. Without TWCC a probe
        cannot be measured: with REMB, a long cluster pads up to the estimate
        now and then so the receiver's estimate can grow; before any feedback,
        nothing.
        """
        if self._twcc_at is None:
            if self._remb is None:
                return []
            return self._controller.fill(now, self.target, wanted + audio, audio)
        clusters = self._controller.process(now, self.target, wanted + audio)
        for cluster in clusters:
            self._evaluator.start(cluster, now)
        return clusters

    # -- internals ------------------------------------------------------------------------

    def _reference(self, reference: int) -> float:
        """Seconds to add to this feedback's arrivals so the 24-bit reference never wraps."""
        last = self._last_reference
        if last is not None and reference < last - (1 << 23):
            self._reference_offset += _REFERENCE_WRAP
        self._last_reference = reference
        return self._reference_offset

    def _probe_explains(self, now: float) -> bool:
        """A probe is in flight or just measured: its burst is the queue the detector saw."""
        if self._evaluator.pending:
            return True
        return self._probed is not None and now - self._probed[0] < PROBE_MEMORY

    def _count_loss(self, reported: int, lost: int, now: float) -> None:
        if self._loss_since is None:
            self._loss_since = now
        self._loss_reported += reported
        self._loss_lost += lost
        total = self._loss_reported
        if total >= LOSS_WINDOW_PACKETS or (
            total >= 20 and now - self._loss_since >= LOSS_WINDOW_TIME
        ):
            self._loss.on_loss(
                self._loss_lost / total,
                now,
                target=self.target,
                delay_based=self._aimd.estimate,
                rtt=self.rtt,
                acked=self.acked_bitrate,
                queued=self._queue.delay >= STANDING_QUEUE,
            )
            self._loss_reported = self._loss_lost = 0
            self._loss_since = now

    def _update_target(self, now: float) -> None:
        target = self.delay_based
        if self._twcc_at is not None and self._remb is not None:
            if self._remb_at is not None and self._twcc_at - self._remb_at < REMB_VALID:
                target = min(target, self._remb)
        if self._loss.bound is not None:
            target = min(target, self._loss.bound)
        if target < CUT_SHARE * self._level:
            self._cut_at = now
        self._level = target
        backlog = self._queue.delay - STANDING_QUEUE
        if backlog > 0 and self.acked_bitrate is not None:
            # A standing queue (the link shrank under us): send less than it carries
            # until it drains, or audio waits behind it for seconds.
            target -= backlog * self.acked_bitrate / PUSHBACK_DRAIN
        self.target = min(max(target, self.min_bitrate), self.max_bitrate)
