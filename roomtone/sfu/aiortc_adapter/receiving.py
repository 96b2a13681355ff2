"""Receivers of the aiortc clients (tests, load test, benchmark): encoded frames out of
aiortc's receiver instead of a decoder.

Part of the aiortc adapter: see the package docstring. The server itself
never runs aiortc's receivers (wire.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiortc import RTCRtpReceiver

from roomtone.sfu.aiortc_adapter.names import RECEIVER_DECODER_QUEUE, RECEIVER_DECODER_THREAD

log = logging.getLogger(__name__)


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
            log.exception("frame sink failed")

    def get(self, *args: object, **kwargs: object) -> None:
        return None


def tap_receiver(
    receiver: RTCRtpReceiver, sink: FrameSink, *, on_end: Callable[[], None] | None = None
) -> None:
    """Route `receiver`'s reassembled encoded frames to `sink` instead of a decoder.

    Must run before `receiver.receive()` (aiortc calls it once DTLS is up after
    the answer, so a `track` event or anything before the answer is in time),
    because `receive()` hands the queue to the decoder thread; raises
    RuntimeError if that already happened. `on_end` is called when aiortc
    stops the receiver (BYE, close).
    """
    if not hasattr(receiver, RECEIVER_DECODER_QUEUE):
        raise RuntimeError("aiortc RTCRtpReceiver has no decoder queue; check aiortc_adapter")
    if getattr(receiver, RECEIVER_DECODER_THREAD, None) is not None:
        raise RuntimeError("the receiver already started decoding; tap it before receive()")
    setattr(receiver, RECEIVER_DECODER_QUEUE, _DecoderQueueTap(sink, on_end))
