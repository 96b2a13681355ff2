"""Receivers: encoded frames out of aiortc's receiver instead of a decoder, the
forwarding jitter buffer, SRTP handled in the datagram callback, and PLIs.

Part of the aiortc adapter: see the package docstring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import aiortc.rtcdtlstransport
import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket, is_rtcp

from roomtone.sfu.aiortc_adapter.names import (
    DTLS_CONNECTED,
    DTLS_HANDSHAKE_DONE,
    DTLS_RX_BYTES,
    DTLS_RX_PACKETS,
    RECEIVE_HOOKED,
    RECEIVER_DECODER_QUEUE,
    RECEIVER_DECODER_THREAD,
    RECEIVER_JITTER_BUFFER,
)

log = logging.getLogger(__name__)

# Tasks started from synchronous callbacks (a send that had to wait, a PLI), kept until done.
_background: set[asyncio.Task[None]] = set()


class FrameSink(Protocol):
    """Receives a publisher's reassembled encoded frames on the event loop."""

    def on_frame(self, data: bytes, timestamp: int) -> None: ...


class _DecoderQueueTap:
    """Stands in for RTCRtpReceiver's decoder queue (a queue.Queue).

    aiortc 1.16: `RTCRtpReceiver._handle_rtp_packet` runs on the event loop and
    calls `self.__decoder_queue.put((codec, JitterFrame))` for every frame its
    jitter buffer reassembles; `__stop_decoder` puts `None`. `receive()` starts
    `decoder_worker` in a thread that loops on `get()`: we return `None` at
    once, so that thread exits before creating a decoder, and frames go to the
    sink synchronously instead (no thread hop, no copy, no decoding).
    """

    def __init__(self, sink: FrameSink, on_end: Callable[[], None] | None) -> None:
        self._on_frame = sink.on_frame
        self._on_end = on_end

    def put(self, item: tuple[Any, Any] | None, *args: object, **kwargs: object) -> None:
        try:
            if item is not None:
                frame = item[1]
                self._on_frame(frame.data, frame.timestamp)
            elif self._on_end is not None:
                self._on_end()
        except Exception:  # never break aiortc's receive loop
            log.exception("SFU frame sink failed")

    def get(self, *args: object, **kwargs: object) -> None:
        return None


class _ForwardingJitterBuffer(JitterBuffer):
    """aiortc's jitter buffer, releasing frames as soon as they are complete.

    aiortc 1.16 `JitterBuffer.add` hands out a frame only when a packet of the
    *next* frame arrives (+1 frame interval, 33 ms of video), and holds 4 audio
    frames (80 ms) before releasing one. A forwarder has no playout to smooth,
    so here a video frame goes out as soon as it is complete (contiguous from
    the buffer's origin up to its marker packet, one timestamp), and each audio
    packet (one Opus frame) goes out on arrival, skipping any gap: audio is
    not retransmitted, and the subscriber's own jitter buffer conceals loss.
    Everything else (reordering, loss handling, PLI on overflow) is aiortc's.
    Uses the buffer's `_packets`, `_origin`, `_capacity`, `remove()` and each
    packet's `_data` (the depayloaded payload set by RTCRtpReceiver). Video
    here means VP8, the only video codec the SFU negotiates.
    """

    def __init__(self, capacity: int, is_video: bool) -> None:
        super().__init__(capacity=capacity, is_video=is_video)
        self._video = is_video

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli_flag, frame = super().add(packet)
        if frame is None and self._origin is not None:
            try:
                frame = self._complete(packet)
            except Exception:  # an error here would end aiortc's whole receive loop
                log.exception("SFU jitter buffer failed; falling back to aiortc's")
        return pli_flag, frame

    def _complete(self, packet: RtpPacket) -> JitterFrame | None:
        origin, capacity, slots = self._origin, self._capacity, self._packets
        if slots[packet.sequence_number % capacity] is not packet:
            return None  # too old: aiortc did not store it
        if not self._video:
            count = (packet.sequence_number - origin) % 65536 + 1
            if count > capacity:
                return None
            self.remove(count)
            return JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]
        first = slots[origin % capacity]
        if first is None or not first.payload or first.payload[0] & 0x17 != 0x10:
            return None  # the frame's first packet is missing (VP8 descriptor: S=1, PID=0)
        packets = []
        for i in range(capacity):
            stored = slots[(origin + i) % capacity]
            if stored is None or stored.timestamp != first.timestamp:
                return None
            packets.append(stored)
            if stored.marker:
                self.remove(i + 1)
                data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
                return JitterFrame(data=data, timestamp=first.timestamp)
        return None


def tap_receiver(
    receiver: RTCRtpReceiver,
    sink: FrameSink,
    *,
    forwarding: bool,
    on_end: Callable[[], None] | None = None,
) -> None:
    """Route `receiver`'s reassembled encoded frames to `sink` instead of a decoder.

    Must run before `receiver.receive()` (aiortc calls it once DTLS is up after
    the answer, so a `track` event or anything before the answer is in time),
    because `receive()` hands the queue to the decoder thread; raises
    RuntimeError if that already happened. `on_end` is called when aiortc
    stops the receiver (BYE, close). `forwarding` swaps in a jitter buffer that
    releases frames without waiting (see _ForwardingJitterBuffer) and, once
    aiortc starts the receiver (its `receive()`, shadowed by an instance
    attribute, on the bundled transport), handles that transport's SRTP
    without a task switch (receive_synchronously); test and load-test clients
    keep aiortc's own.
    """
    if not hasattr(receiver, RECEIVER_DECODER_QUEUE):
        raise RuntimeError("aiortc RTCRtpReceiver has no decoder queue; check aiortc_adapter")
    if getattr(receiver, RECEIVER_DECODER_THREAD, None) is not None:
        raise RuntimeError("the receiver already started decoding; tap it before receive()")
    setattr(receiver, RECEIVER_DECODER_QUEUE, _DecoderQueueTap(sink, on_end))
    if forwarding:
        current = getattr(receiver, RECEIVER_JITTER_BUFFER)
        replacement = _ForwardingJitterBuffer(current.capacity, current._is_video)
        setattr(receiver, RECEIVER_JITTER_BUFFER, replacement)
        start = receiver.receive

        async def receive(parameters: Any) -> None:
            await start(parameters)
            receive_synchronously(receiver.transport)

        receiver.receive = receive  # type: ignore[method-assign]


# --- receiving: SRTP handled in the datagram callback ------------------------------------------


def drive(coroutine: Any) -> None:
    """Run `coroutine` now; if it really suspends (e.g. a TURN send), finish it in a task.

    aiortc's packet handlers are coroutines that almost never wait; starting
    one by hand saves creating a task per packet.
    """
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return
    task = asyncio.get_running_loop().create_task(_resume(coroutine, waiting))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _resume(coroutine: Any, waiting: Any) -> None:
    await _Resume(coroutine, waiting)


class _Resume:
    """Awaitable that hands a started coroutine's pending future to the task, then goes on."""

    def __init__(self, coroutine: Any, waiting: Any) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Any:
        coroutine, waiting = self._coroutine, self._waiting
        while True:
            try:
                value = yield waiting
            except BaseException as exc:  # passed on, as `await` would
                try:
                    waiting = coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting = coroutine.send(value)
                except StopIteration:
                    return


def receive_synchronously(dtls: RTCDtlsTransport) -> bool:
    """Handle `dtls`'s incoming SRTP/SRTCP in aioice's datagram callback, not a task.

    aiortc 1.16: aioice `Connection.data_received` puts every non-STUN datagram
    in an asyncio.Queue; RTCDtlsTransport's `__run` task awaits it
    (`_recv_next`: `transport._recv()`, i.e. `Connection.recv`), counts
    `__rx_bytes`/`__rx_packets`, and for SRTP (first byte 128-191, once
    `_rx_srtp` exists) unprotects it and awaits `_handle_rtcp_data` or
    `_handle_rtp_data(data, arrival_time_ms=clock.current_ms())`, dropping
    packets that fail SRTP. That is a task wakeup per packet. Here an instance
    attribute shadows `data_received` and does the same at once when the queue
    is empty (order kept), the transport is connected and its handshake is
    done; anything else (DTLS, STUN-less data before SRTP keys, close) goes
    through the queue as before. Idempotent; False if the transport has no
    aioice connection to hook.
    """
    connection = getattr(getattr(dtls, "transport", None), "_connection", None)
    if connection is None or not hasattr(connection, "_queue"):
        return False
    if getattr(connection, RECEIVE_HOOKED, None) is dtls:
        return True
    queued = connection.data_received
    queue = connection._queue
    current_ms = aiortc.rtcdtlstransport.clock.current_ms

    def data_received(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if (
            srtp is None
            or not data  # (aiortc's own path fails on it; left to do so)
            or not queue.empty()
            or dtls._state is not DTLS_CONNECTED
            or not getattr(dtls, DTLS_HANDSHAKE_DONE)
            or not 127 < data[0] < 192
        ):
            queued(data, component)
            return
        setattr(dtls, DTLS_RX_BYTES, getattr(dtls, DTLS_RX_BYTES) + len(data))
        setattr(dtls, DTLS_RX_PACKETS, getattr(dtls, DTLS_RX_PACKETS) + 1)
        arrival_time_ms = current_ms()
        try:
            if is_rtcp(data):
                drive(dtls._handle_rtcp_data(srtp.unprotect_rtcp(data)))
            else:
                drive(dtls._handle_rtp_data(srtp.unprotect(data), arrival_time_ms))
        except pylibsrtp.Error:
            pass  # aiortc drops what fails SRTP
        except ConnectionError:
            pass  # a send while closing; the DTLS task sees the close itself
        except Exception:
            log.exception("SFU receive path failed")

    connection.data_received = data_received
    setattr(connection, RECEIVE_HOOKED, dtls)
    return True


def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe (RTCP PLI).

    aiortc 1.16: `RTCRtpReceiver._send_rtcp_pli(media_ssrc)` is what its own
    jitter buffer uses on loss; it is a no-op until the RTCP SSRC is known.
    """
    task = asyncio.get_running_loop().create_task(receiver._send_rtcp_pli(media_ssrc))
    _background.add(task)
    task.add_done_callback(_background.discard)
