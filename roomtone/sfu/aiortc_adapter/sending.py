"""Senders: pre-encoded frames packed with our packers, keyframe requests, and the
synchronous forwarding sender that replaces aiortc's per-sender send loop.

Part of the aiortc adapter: see the package docstring.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import aiortc.rtcrtpsender
from aioice.ice import StunProtocol
from aiortc import RTCRtpSender
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, RtpPacket, wrap_rtx

from roomtone.sfu.aiortc_adapter.names import (
    DTLS_CONNECTED,
    DTLS_TX_BYTES,
    DTLS_TX_PACKETS,
    SENDER_ENCODER,
    SENDER_EXTENSIONS_MAP,
    SENDER_MID,
    SENDER_NTP_TIMESTAMP,
    SENDER_OCTET_COUNT,
    SENDER_PACKET_COUNT,
    SENDER_RTP_EXITED,
    SENDER_RTP_STARTED,
    SENDER_RTP_TIMESTAMP,
    SENDER_RTX_PAYLOAD_TYPE,
    SENDER_TRACK,
)

log = logging.getLogger(__name__)


class Packer(Protocol):
    """Turns one forwarded frame into RTP payloads (see packetize.py)."""

    def pack(self, frame: Any) -> tuple[list[bytes], int]: ...


def install_packer(sender: RTCRtpSender, packer: Packer) -> None:
    """Make `sender` pack forwarded frames with `packer`, never creating an encoder.

    aiortc 1.16: `RTCRtpSender._next_encoded_frame` calls `get_encoder(codec)`
    when `__encoder` is None (OpusEncoder() opens a libopus encoder even if it
    only ever packs), then `__encoder.pack(data)` for anything that is not an
    `av.Frame`. Presetting `__encoder` skips the factory.
    """
    if getattr(sender, SENDER_ENCODER, False) is not None:
        raise RuntimeError("aiortc RTCRtpSender has no idle encoder slot; check aiortc_adapter")
    setattr(sender, SENDER_ENCODER, packer)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the remote side sends a PLI or FIR for `sender`.

    aiortc 1.16: `RTCRtpSender._handle_rtcp_packet` calls `self._send_keyframe()`,
    which only flags its encoder; an instance attribute shadows that method.
    """
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise RuntimeError("aiortc RTCRtpSender._send_keyframe is gone; check aiortc_adapter")
    sender._send_keyframe = callback  # type: ignore[method-assign]


# --- forwarding senders: frames go out synchronously, from the forwarder's call ---------------

_RTP_HEADER = struct.Struct("!BBHII")  # V=2 P X CC, M PT, sequence number, timestamp, SSRC
_EXTENSION_HEADER = struct.Struct("!HH")  # profile, length in 32-bit words
_NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


def ntp_now() -> int:
    """64-bit NTP time of now, as aiortc.clock.current_ntp_time() (without datetime)."""
    return int((time.time() + _NTP_UNIX_OFFSET) * 4294967296.0)


class FrameOutlet(Protocol):
    """Where a ForwardingSender plugs in: the track calls `send(frame)` while bound."""

    def bind(self, send: Callable[[Any], None] | None) -> None: ...


class ForwardingSender:
    """Sends a sender's forwarded frames synchronously, in place of `RTCRtpSender._run_rtp`.

    aiortc 1.16 runs `_run_rtp` as one task per sender: it awaits
    `track.recv()`, packs the frame with `__encoder.pack()`, makes an RtpPacket
    per payload (random initial sequence number and timestamp origin; marker on
    the last payload; abs-send-time and mid header extensions serialized by
    `__rtp_header_extensions_map`), keeps it in `__rtp_history` (slot
    seq % RTP_HISTORY_SIZE, for `_retransmit` on NACK, RTX-wrapped when
    `__rtx_payload_type` is negotiated), sends it with
    `transport._send_rtp()` (SRTP protect, then the nominated ICE pair), and
    updates `__packet_count`, `__octet_count`, `__ntp_timestamp` and
    `__rtp_timestamp`, which `_run_rtcp` reports in RTCP SRs and `getStats()`.
    It drops frames while `_enabled` is false and ends (stopping the track) on
    ConnectionError or cancellation (`stop()` waits for `__rtp_started` and
    `__rtp_exited`).

    A forwarder already has each frame in hand on the event loop, so a task
    wakeup per subscriber and frame is pure overhead. Instance attributes
    shadow `_run_rtp` (which `send()` starts with the negotiated codec and
    which here only binds `send` to the track until it is cancelled) and
    `_retransmit` (which reads this class's history of serialized packets).
    Everything listed above is done here, the same way, from `send(frame)`.
    Packets go straight to the nominated pair's UDP socket when it is a plain
    aioice StunProtocol (host/srflx candidates); any other pair (TURN relay)
    goes through aiortc's own `transport._send_rtp`, in order, from a task.
    """

    def __init__(self, sender: RTCRtpSender, packer: Packer, outlet: FrameOutlet) -> None:
        self._sender = sender
        self._packer = packer
        self._outlet = outlet
        self._ssrc = sender._ssrc
        self._sequence = aiortc.rtcrtpsender.random_sequence_number()
        self._timestamp_origin = aiortc.rtcrtpsender.random32()
        self._rtx_sequence = aiortc.rtcrtpsender.random_sequence_number()
        self._history: list[bytes | None] = [None] * RTP_HISTORY_SIZE
        self._payload_type = 0
        self._mid: str | None = None
        self._extensions: Any = None
        self._rtx_payload_type: int | None = None
        self._done: asyncio.Future[None] | None = None
        self._backlog: deque[bytes] = deque()
        self._backlog_task: asyncio.Task[None] | None = None
        sender._run_rtp = self._run  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    async def _run(self, codec: Any) -> None:
        sender = self._sender
        getattr(sender, SENDER_RTP_STARTED).set()
        self._payload_type = codec.payloadType
        self._mid = getattr(sender, SENDER_MID)
        self._extensions = getattr(sender, SENDER_EXTENSIONS_MAP)
        self._rtx_payload_type = getattr(sender, SENDER_RTX_PAYLOAD_TYPE)
        self._done = asyncio.get_running_loop().create_future()
        self._outlet.bind(self.send)
        try:
            await self._done
        except asyncio.CancelledError:
            pass
        finally:
            self._outlet.bind(None)
            if self._backlog_task is not None:
                self._backlog_task.cancel()
            track = sender.track
            if track is not None:
                track.stop()
                setattr(sender, SENDER_TRACK, None)
            getattr(sender, SENDER_RTP_EXITED).set()

    def _finish(self) -> None:
        self._outlet.bind(None)
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def send(self, frame: Any) -> None:
        """Pack and send one frame now (called on the event loop; never raises)."""
        if not self._sender._enabled:
            return  # aiortc drops frames while the transceiver does not send
        try:
            payloads, pts = self._packer.pack(frame)
            if payloads:
                self._send_payloads(payloads, pts)
        except ConnectionError:
            self._finish()
        except Exception:
            log.exception("SFU RTP sender failed")
            self._finish()

    def _send_payloads(self, payloads: list[bytes], pts: int) -> None:
        ntp = ntp_now()
        timestamp = (self._timestamp_origin + pts) & 0xFFFFFFFF
        values = HeaderExtensions(mid=self._mid, abs_send_time=(ntp >> 14) & 0x00FFFFFF)
        profile, value = self._extensions.set(values)
        if value:
            first = 0x90  # V=2, X=1
            extension = _EXTENSION_HEADER.pack(profile, len(value) >> 2) + value
        else:
            first = 0x80
            extension = b""
        pack = _RTP_HEADER.pack
        payload_type, ssrc, seq = self._payload_type, self._ssrc, self._sequence
        history = self._history
        last = len(payloads) - 1
        packets = []
        octets = 0
        for i, payload in enumerate(payloads):
            marked = payload_type | 0x80 if i == last else payload_type
            data = pack(first, marked, seq, timestamp, ssrc) + extension + payload
            history[seq % RTP_HISTORY_SIZE] = data
            packets.append(data)
            octets += len(payload)
            seq = (seq + 1) & 0xFFFF
        self._sequence = seq
        self._transmit(packets)
        sender = self._sender
        setattr(sender, SENDER_NTP_TIMESTAMP, ntp)
        setattr(sender, SENDER_RTP_TIMESTAMP, timestamp)
        setattr(sender, SENDER_PACKET_COUNT, getattr(sender, SENDER_PACKET_COUNT) + len(packets))
        setattr(sender, SENDER_OCTET_COUNT, getattr(sender, SENDER_OCTET_COUNT) + octets)

    def _transmit(self, packets: list[bytes]) -> None:
        """aiortc's `RTCDtlsTransport._send_rtp` + aioice `Connection.send`, for each packet."""
        dtls = self._sender.transport
        if dtls._state is not DTLS_CONNECTED:
            raise ConnectionError("Cannot send encrypted RTP, not connected")
        if not self._backlog:
            pair = dtls.transport._connection._nominated.get(1)
            if pair is None:
                raise ConnectionError("Cannot send data, not connected")
            protocol = pair.protocol
            if type(protocol) is StunProtocol:
                protect = dtls._tx_srtp.protect
                sendto = protocol.transport.sendto
                address = pair.remote_addr
                size = 0
                for packet in packets:
                    data = protect(packet)
                    sendto(data, address)
                    size += len(data)
                setattr(dtls, DTLS_TX_BYTES, getattr(dtls, DTLS_TX_BYTES) + size)
                setattr(dtls, DTLS_TX_PACKETS, getattr(dtls, DTLS_TX_PACKETS) + len(packets))
                return
        self._backlog.extend(packets)
        if self._backlog_task is None:
            self._backlog_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._backlog:
                await self._sender.transport._send_rtp(self._backlog.popleft())
        except ConnectionError:
            self._finish()
        except Exception:
            log.exception("SFU RTP sender failed")
            self._finish()
        finally:
            self._backlog_task = None

    async def _retransmit(self, sequence_number: int) -> None:
        """A NACKed packet from the history, RTX-wrapped if negotiated (as aiortc's)."""
        data = self._history[sequence_number % RTP_HISTORY_SIZE]
        if data is None or int.from_bytes(data[2:4], "big") != sequence_number:
            return
        if self._rtx_payload_type is not None:
            packet = RtpPacket.parse(data, self._extensions)
            rtx = wrap_rtx(
                packet,
                payload_type=self._rtx_payload_type,
                sequence_number=self._rtx_sequence,
                ssrc=self._sender._rtx_ssrc,
            )
            self._rtx_sequence = (self._rtx_sequence + 1) & 0xFFFF
            data = rtx.serialize(self._extensions)
        self._transmit([data])


def install_forwarding_sender(
    sender: RTCRtpSender, packer: Packer, outlet: FrameOutlet
) -> ForwardingSender:
    """Make `sender` send `outlet`'s frames synchronously, packed by `packer` (no encoder).

    Must run before `sender.send()` (aiortc calls it once DTLS is up after the
    negotiation). See ForwardingSender for what aiortc's `_run_rtp` does and
    how it is kept; the packer also takes the encoder slot (install_packer),
    so no encoder can ever be created for this sender.
    """
    for name in (SENDER_RTP_STARTED, SENDER_RTP_EXITED, SENDER_EXTENSIONS_MAP):
        if not hasattr(sender, name):
            raise RuntimeError(f"aiortc RTCRtpSender has no {name}; check aiortc_adapter")
    install_packer(sender, packer)
    return ForwardingSender(sender, packer, outlet)
