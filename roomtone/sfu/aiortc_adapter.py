"""Every aiortc/aioice internal the SFU relies on, in one place.

aiortc has no public API for forwarding encoded media, choosing local ports or
turning PLIs into keyframe requests for pre-encoded tracks, so the SFU reaches
into a few private attributes. They are all here, each with the reason and the
aiortc code it depends on, and tests/unit/test_sfu_adapter.py checks them
against the installed aiortc (pinned in pyproject.toml: aiortc>=1.16,<1.17,
aioice 0.13). If one of those tests fails after an upgrade, fix this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import aiortc.codecs
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import av
from aiortc import (
    RTCIceCandidate,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.sdp import candidate_from_sdp

log = logging.getLogger(__name__)

TESTED_AIORTC = ("1.16",)
FORBID_CODECS_ENV = "ROOMTONE_SFU_FORBID_CODECS"
FORBIDDEN_MARKER = "SFU codec use forbidden"

# Name-mangled private attributes (aiortc 1.16).
_RECEIVER_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_SENDER_ENCODER = "_RTCRtpSender__encoder"


class FrameSink(Protocol):
    """Receives a publisher's reassembled encoded frames on the event loop."""

    def on_frame(self, data: bytes, timestamp: int) -> None: ...

    def on_end(self) -> None: ...


class Packer(Protocol):
    """Turns one forwarded frame into RTP payloads (see packetize.py)."""

    def pack(self, frame: Any) -> tuple[list[bytes], int]: ...


class _DecoderQueueTap:
    """Stands in for RTCRtpReceiver's decoder queue (a queue.Queue).

    aiortc 1.16: `RTCRtpReceiver._handle_rtp_packet` runs on the event loop and
    calls `self.__decoder_queue.put((codec, JitterFrame))` for every frame its
    jitter buffer reassembles; `__stop_decoder` puts `None`. `receive()` starts
    `decoder_worker` in a thread that loops on `get()`: we return `None` at
    once, so that thread exits before creating a decoder, and frames go to the
    sink synchronously instead (no thread hop, no copy, no decoding).
    """

    def __init__(self, sink: FrameSink) -> None:
        self._sink = sink

    def put(self, item: tuple[Any, Any] | None, *args: object, **kwargs: object) -> None:
        try:
            if item is None:
                self._sink.on_end()
            else:
                frame = item[1]
                self._sink.on_frame(frame.data, frame.timestamp)
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


def tap_receiver(receiver: RTCRtpReceiver, sink: FrameSink, *, forwarding: bool) -> None:
    """Route `receiver`'s reassembled encoded frames to `sink` instead of a decoder.

    Must run before `receiver.receive()` (aiortc calls it once DTLS is up after
    the answer), because `receive()` hands the queue to the decoder thread.
    `forwarding` swaps in a jitter buffer that releases frames without waiting
    (see _ForwardingJitterBuffer); test clients keep aiortc's own.
    """
    if not hasattr(receiver, _RECEIVER_DECODER_QUEUE):
        raise RuntimeError("aiortc RTCRtpReceiver has no decoder queue; check aiortc_adapter")
    setattr(receiver, _RECEIVER_DECODER_QUEUE, _DecoderQueueTap(sink))
    if forwarding:
        current = getattr(receiver, _RECEIVER_JITTER_BUFFER)
        replacement = _ForwardingJitterBuffer(current.capacity, current._is_video)
        setattr(receiver, _RECEIVER_JITTER_BUFFER, replacement)


def install_packer(sender: RTCRtpSender, packer: Packer) -> None:
    """Make `sender` pack forwarded frames with `packer`, never creating an encoder.

    aiortc 1.16: `RTCRtpSender._next_encoded_frame` calls `get_encoder(codec)`
    when `__encoder` is None (OpusEncoder() opens a libopus encoder even if it
    only ever packs), then `__encoder.pack(data)` for anything that is not an
    `av.Frame`. Presetting `__encoder` skips the factory.
    """
    if getattr(sender, _SENDER_ENCODER, False) is not None:
        raise RuntimeError("aiortc RTCRtpSender has no idle encoder slot; check aiortc_adapter")
    setattr(sender, _SENDER_ENCODER, packer)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the remote side sends a PLI or FIR for `sender`.

    aiortc 1.16: `RTCRtpSender._handle_rtcp_packet` calls `self._send_keyframe()`,
    which only flags its encoder; an instance attribute shadows that method.
    """
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise RuntimeError("aiortc RTCRtpSender._send_keyframe is gone; check aiortc_adapter")
    sender._send_keyframe = callback  # type: ignore[method-assign]


_background: set[asyncio.Task[None]] = set()


def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe (RTCP PLI).

    aiortc 1.16: `RTCRtpReceiver._send_rtcp_pli(media_ssrc)` is what its own
    jitter buffer uses on loss; it is a no-op until the RTCP SSRC is known.
    """
    task = asyncio.get_running_loop().create_task(receiver._send_rtcp_pli(media_ssrc))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def create_offer(pc: RTCPeerConnection) -> RTCSessionDescription:
    """`pc.createOffer()` that leaves already negotiated transceivers' RTP parameters alone.

    aiortc 1.16: `createOffer` resets every transceiver's `_codecs` and
    `_headerExtensions` to aiortc's own payload types and extension ids. Until
    the answer re-derives them, a `__connect` task still waiting for DTLS from
    an earlier negotiation may start a sender or receiver with those reset
    values: wrong payload types, and an extension map that misparses the
    client's packets. The negotiated values are put back at once (createOffer
    does not yield in between); the offer's SDP is renumbered by sdp.Numbering.
    """
    saved = [
        (t, t._codecs, t._headerExtensions)
        for t in pc.getTransceivers()
        if t.currentDirection is not None
    ]
    offer = await pc.createOffer()
    for transceiver, codecs, extensions in saved:
        transceiver._codecs = codecs
        transceiver._headerExtensions = extensions
    return offer


def parse_candidate(data: dict[str, Any]) -> RTCIceCandidate | None:
    """A browser's `RTCIceCandidate.toJSON()` → aiortc candidate (None: end of candidates)."""
    text = data.get("candidate")
    if not text:
        return None
    if not isinstance(text, str):
        raise ValueError("candidate must be a string")
    try:  # aiortc 1.16 asserts on short lines and raises ValueError/IndexError on others
        candidate = candidate_from_sdp(text.removeprefix("candidate:"))
    except (AssertionError, ValueError, IndexError) as exc:
        raise ValueError(f"malformed ICE candidate: {exc}") from None
    mid, index = data.get("sdpMid"), data.get("sdpMLineIndex")
    candidate.sdpMid = mid if isinstance(mid, str) else None
    candidate.sdpMLineIndex = index if isinstance(index, int) else None
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        candidate.sdpMLineIndex = 0  # BUNDLE: every m-line shares one transport
    return candidate


# --- local UDP ports -------------------------------------------------------------------------
# aioice 0.13 `Connection.get_component_candidates` binds each host candidate
# with `loop.create_datagram_endpoint(factory, local_addr=(address, 0))`. There
# is no option to choose the port, so while a port scope is active (a context
# variable, i.e. only inside the SFU's own gathering), the running loop's
# `create_datagram_endpoint` binds such requests to a port from the scope.


class PortSource(Protocol):
    def ports(self) -> Iterator[int]: ...


class PortScope:
    """One gathering: where ports come from, and whether the range ran out."""

    def __init__(self, source: PortSource) -> None:
        self.source = source
        self.exhausted = False


_port_scope: contextvars.ContextVar[PortScope | None] = contextvars.ContextVar(
    "roomtone_sfu_port_scope", default=None
)
_HOOKED = "_roomtone_sfu_port_hook"


def _install_port_hook(loop: asyncio.AbstractEventLoop) -> None:
    if getattr(loop, _HOOKED, False):
        return
    original = loop.create_datagram_endpoint

    async def create_datagram_endpoint(
        protocol_factory: Callable[[], Any], *args: Any, **kwargs: Any
    ) -> Any:
        scope = _port_scope.get()
        local_addr = kwargs.get("local_addr")
        if scope is None or args or not local_addr or local_addr[1] != 0:
            return await original(protocol_factory, *args, **kwargs)
        for port in scope.source.ports():
            kwargs["local_addr"] = (local_addr[0], port)
            try:
                return await original(protocol_factory, **kwargs)
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
        scope.exhausted = True
        raise OSError(errno.EADDRINUSE, "no free UDP port in SFU_PORT_RANGE")

    loop.create_datagram_endpoint = create_datagram_endpoint  # type: ignore[method-assign]
    setattr(loop, _HOOKED, True)


@contextlib.contextmanager
def ports_from(source: PortSource | None) -> Iterator[PortScope | None]:
    """Within this block, ICE host candidates bind to ports from `source` (None: OS picks)."""
    if source is None:
        yield None
        return
    _install_port_hook(asyncio.get_running_loop())
    scope = PortScope(source)
    token = _port_scope.set(scope)
    try:
        yield scope
    finally:
        _port_scope.reset(token)


# --- proof that nothing is transcoded --------------------------------------------------------


class CodecForbidden(RuntimeError):
    """A decoder or encoder was about to be created in a forwarding-only process."""


def _forbidden(*args: object, **kwargs: object) -> Any:
    log.error("%s: a decoder or encoder was requested (%s=1)", FORBIDDEN_MARKER, FORBID_CODECS_ENV)
    raise CodecForbidden(FORBIDDEN_MARKER)


def forbid_codecs() -> Callable[[], None]:
    """Make every codec factory raise: aiortc's get_decoder/get_encoder and av's CodecContext.

    aiortc 1.16 binds `get_decoder` into rtcrtpreceiver and `get_encoder` into
    rtcrtpsender at import, so those names are replaced too. Returns a function
    that undoes it (for tests).
    """
    targets: list[tuple[Any, str, Any]] = [
        (aiortc.codecs, "get_decoder", _forbidden),
        (aiortc.codecs, "get_encoder", _forbidden),
        (aiortc.rtcrtpreceiver, "get_decoder", _forbidden),
        (aiortc.rtcrtpsender, "get_encoder", _forbidden),
        (av.CodecContext, "create", staticmethod(_forbidden)),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in targets]
    for owner, name, replacement in targets:
        setattr(owner, name, replacement)

    def restore() -> None:
        for owner, name, original in saved:
            setattr(owner, name, original)

    return restore


def forbid_codecs_if_requested() -> bool:
    """Honour ROOMTONE_SFU_FORBID_CODECS=1 (set by the no-transcoding test)."""
    if os.environ.get(FORBID_CODECS_ENV, "").strip() in ("1", "true", "yes"):
        forbid_codecs()
        log.info("SFU: codec factories disabled (%s)", FORBID_CODECS_ENV)
        return True
    return False
