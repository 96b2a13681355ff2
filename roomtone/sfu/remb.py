"""REMB for publishers without transport-wide CC: aiortc's estimator, fed a burst at a time.

aiortc's RemoteBitrateEstimator (the receive-side, abs-send-time estimator of
libwebrtc's REMB era) costs about 6 µs of Python per packet, more than the
rest of the inbound path. It works on groups anyway: packets sent within
5 ms of a group's first make one group, and only a group's total size, its
last send time and its last arrival count (the incoming rate counts bytes,
not packets). The packets of one video frame leave the publisher back to
back, so `BurstEstimator` hands the estimator each run of consecutive
packets of one SSRC sent within BURST of the run's first as one packet:
the last one's send time and arrival, the run's bytes. A run is passed on
when the next packet does not belong to it, so the estimate is one packet
behind; it is sent at most every second or so, or on overuse, anyway.

While it sees overuse, aiortc's estimator yields a new value for every
group; each would be one REMB to the publisher. As libwebrtc's throttle
does, a value goes out only when it is 3 % below the last one sent or
THROTTLE seconds after it.
"""

from __future__ import annotations

from aiortc.rate import RemoteBitrateEstimator

BURST = 262  # abs-send-time ticks (6.18 fixed point seconds): 1 ms
THROTTLE = 200  # ms between two REMBs, unless the estimate drops
DROP = 0.97  # an estimate below this times the last one sent goes out at once
_WRAP = 0xFFFFFF


class BurstEstimator:
    """See the module docstring. `add` returns what aiortc's does: (bitrate, SSRCs) or None."""

    __slots__ = ("_arrival", "_estimator", "_first", "_last", "_sent", "_sent_at", "_size", "_ssrc")

    def __init__(self) -> None:
        self._estimator = RemoteBitrateEstimator()
        self._ssrc: int | None = None  # of the run being gathered
        self._first = self._last = self._arrival = self._size = 0
        self._sent = 0  # the last estimate returned (bits/s), and when (arrival ms)
        self._sent_at: int | None = None

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        if ssrc == self._ssrc and (abs_send_time - self._first) & _WRAP < BURST:
            self._last, self._arrival = abs_send_time, arrival_time_ms
            self._size += payload_size
            return None
        result = None
        if self._ssrc is not None:
            result = self._estimator.add(
                arrival_time_ms=self._arrival,
                abs_send_time=self._last,
                payload_size=self._size,
                ssrc=self._ssrc,
            )
        self._ssrc = ssrc
        self._first = self._last = abs_send_time
        self._arrival, self._size = arrival_time_ms, payload_size
        if result is None:
            return None
        if (
            self._sent_at is not None
            and arrival_time_ms - self._sent_at < THROTTLE
            and result[0] >= DROP * self._sent
        ):
            return None
        self._sent, self._sent_at = result[0], arrival_time_ms
        return result
