"""Pre-encoded tracks to publish and frame counters to receive, for aiortc participants.

Sending replays encoded VP8 and Opus packets (aiortc packetizes `av.Packet`s
without encoding) and receiving counts reassembled frames without decoding:
the receiver's frames go to a counter instead of a decoder
(aiortc_adapter.tap_receiver), so no decoder ever runs. Both sides stay cheap
so the server is what gets measured.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomtone.loadtest.media import EncodedFrame, PacketLoop
from roomtone.loadtest.metrics import Metrics

CLOCK = {"video": 90000, "audio": 48000}


class Schedule:
    """When a publisher's packets are due: frame i of loop k at origin + k x loop + pts_i.

    Every track of one publisher (one per peer connection in a mesh) follows
    the same schedule, so a receiver can tell when any frame was sent.
    """

    def __init__(self, packets: PacketLoop, origin: float) -> None:
        self.packets = packets
        self.origin = origin
        video = packets.video
        self.index = {frame.data: i for i, frame in enumerate(video)}
        # pts of the frame after frame i (the next loop's first for the last one)
        self.next_pts = [video[i + 1].pts for i in range(len(video) - 1)]
        self.next_pts.append(packets.seconds + video[0].pts)

    def sent_at(self, pts: float, now: float) -> float | None:
        """The latest due time not after `now` of a packet at `pts` within the loop."""
        loops = math.floor((now - self.origin - pts) / self.packets.seconds)
        if loops < 0:
            return None
        return self.origin + loops * self.packets.seconds + pts


class PreEncodedTrack(MediaStreamTrack):
    """Returns the schedule's packets of one kind, each at its due time."""

    def __init__(self, kind: str, schedule: Schedule) -> None:
        super().__init__()
        self.kind = kind
        self._schedule = schedule
        self._frames: tuple[EncodedFrame, ...] = getattr(schedule.packets, kind)
        self._time_base = Fraction(1, CLOCK[kind])
        self._lap = -1
        self._next = 0

    def _start(self, now: float) -> None:
        # Join the publisher's timeline where it is now, like a camera that is already on.
        seconds = self._schedule.packets.seconds
        elapsed = max(0.0, now - self._schedule.origin)
        self._lap = int(elapsed // seconds)
        position = elapsed - self._lap * seconds
        self._next = next((i for i, f in enumerate(self._frames) if f.pts >= position), 0)
        if self._next == 0 and self._frames[-1].pts < position:
            self._lap += 1

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._lap < 0:
            self._start(time.perf_counter())
        frame = self._frames[self._next]
        media_time = self._lap * self._schedule.packets.seconds + frame.pts
        delay = self._schedule.origin + media_time - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next += 1
        if self._next == len(self._frames):
            self._next = 0
            self._lap += 1
        packet = av.Packet(frame.data)
        packet.pts = round(media_time * CLOCK[self.kind])
        packet.time_base = self._time_base
        packet.is_keyframe = frame.keyframe
        return packet


class FrameCounter:
    """A receiver's frame sink (aiortc_adapter.FrameSink): counts frames, decodes nothing.

    `publisher` names whose media the transceiver currently carries (it can
    change with SFU renegotiation); `schedules` maps ids to their schedules.
    """

    def __init__(
        self,
        kind: str,
        metrics: Metrics,
        publisher: Callable[[], str | None],
        schedules: dict[str, Schedule],
    ) -> None:
        self.kind = kind
        self.metrics = metrics
        self.publisher = publisher
        self.schedules = schedules

    def on_frame(self, data: bytes, timestamp: int) -> None:
        metrics = self.metrics
        metrics.delivered_bytes += len(data)
        if self.kind == "audio":
            metrics.audio_frames += 1
            return
        peer = self.publisher()
        schedule = self.schedules.get(peer) if peer else None
        if schedule is None:
            return  # someone else's media (a browser in the room): counted as bytes only
        index = schedule.index.get(data)
        if index is None:
            metrics.error("received a video frame that no participant sent")
            return
        # aiortc emits frame i once frame i+1's first packet is in: that packet's delay
        # is what was just observed.
        now = time.perf_counter()
        sent = schedule.sent_at(schedule.next_pts[index], now)
        if sent is not None:
            metrics.delivered(sent, now)
