"""The packet path's access to a connection: SRTP in from the socket, SRTP out to it,
and aiortc's own RTP receivers and senders left idle.

Part of the aiortc adapter: see the package docstring.

aiortc 1.16 routes each unprotected packet through `RTCDtlsTransport`'s
`_handle_rtp_data` / `_handle_rtcp_data` to its RtpRouter, which drops every
SSRC it cannot tie to one receiver (all simulcast layers but one) and hands
the rest to receivers that reassemble frames. The packet strategy needs the
packets themselves, so `Wire` takes over both handlers on one transport, and
the transceivers of SFU m-lines never start aiortc's RTP machinery
(`idle_transceiver`): no decoder thread, no jitter buffer, no RTP/RTCP tasks.
aiortc keeps doing ICE, DTLS, the SRTP keys and SDP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aioice.ice import StunProtocol
from aiortc import RTCDtlsTransport, RTCRtpTransceiver

from roomtone.sfu.aiortc_adapter.names import DTLS_CONNECTED, DTLS_HANDSHAKE_DONE, WIRE_HOOKED
from roomtone.sfu.aiortc_adapter.outbox import Flusher, Socket
from roomtone.sfu.aiortc_adapter.srtp import Srtp, fast_srtp

log = logging.getLogger(__name__)

RECEIVE_SIZE = 65536  # bytes read per datagram: any UDP payload fits (asyncio's default: 256 KiB)
DRAIN_MAX = 64  # datagrams one socket callback reads at most (the loop's other work waits)
FLUSH_EVERY = 8  # ...and what they produced is sent at least every this many (a frame's worth)

PacketHandler = Callable[[bytes, float], None]  # (unprotected packet, time.monotonic())


def idle_transceiver(transceiver: RTCRtpTransceiver, on_start: Callable[[Any], None]) -> None:
    """Keep aiortc's RTP receiver and sender of `transceiver` from ever running.

    aiortc 1.16 `RTCPeerConnection.__connect` calls `sender.send(parameters)` /
    `receiver.receive(parameters)` once DTLS is connected, for the directions
    negotiated; those start the RTP/RTCP tasks and the decoder thread, and
    register with the transport's router. Instance attributes shadow both with
    a call to `on_start(dtls_transport)`; `stop()` then finds them never
    started and does nothing. Must run before the first negotiation completes.
    """

    async def receive(parameters: Any) -> None:
        on_start(transceiver.receiver.transport)

    async def send(parameters: Any) -> None:
        on_start(transceiver.sender.transport)

    transceiver.receiver.receive = receive  # type: ignore[method-assign]
    transceiver.sender.send = send  # type: ignore[method-assign]


class Wire:
    """One connected DTLS transport: unprotected packets in (handlers), protected out.

    In: aioice `Connection.data_received` puts each datagram in a queue that
    RTCDtlsTransport's task reads (`_recv_next`: DTLS, or SRTP unprotect and
    `_handle_rtcp_data(data)` / `_handle_rtp_data(data, arrival_time_ms)`). An
    instance attribute shadows `data_received` and unprotects SRTP/SRTCP at
    once (no task wakeup per packet) when the queue is empty (order kept), the
    transport is connected and its handshake is done; everything else goes
    through the queue, and the two handlers are shadowed so that what comes
    that way reaches the packet path too.

    The datagram callbacks of the connection's own sockets (plain StunProtocols:
    host and server-reflexive candidates) are shadowed too, so that SRTP/SRTCP
    skips aioice's STUN parse, which fails on every media datagram by raising
    ValueError, and each socket reads into a buffer of RECEIVE_SIZE instead of
    asyncio's 256 KiB (`max_size`, allocated and given back per datagram:
    15 µs a read here against 2 µs). The callback then reads whatever else
    the socket holds (a frame's packets arrive together; asyncio would read
    one per loop turn) and sends what all of it produced (outbox.Flusher).

    Out: `RTCDtlsTransport._send_rtp` + aioice `Connection.send`, without the
    coroutines: packets for the nominated pair's socket, when that is a plain
    StunProtocol (host/srflx), wait for the end of the loop's turn and go out
    protected, several per system call (outbox.py); any other pair (TURN
    relay) goes through aiortc's `_send_rtp`, in order, from a task.

    SRTP goes through `srtp.fast_srtp` (libsrtp directly, no per-call
    allocations) on aiortc's sessions, re-wrapped if aiortc replaces one.
    """

    def __init__(
        self, dtls: RTCDtlsTransport, on_rtp: PacketHandler, on_rtcp: PacketHandler
    ) -> None:
        self.dtls = dtls
        self._on_rtp = on_rtp
        self._on_rtcp = on_rtcp
        self._backlog: deque[bytes] = deque()
        self._backlog_task: asyncio.Task[None] | None = None
        self._rx_session: Any = None
        self._rx: Srtp | None = None
        self._tx_session: Any = None
        self._tx: Srtp | None = None
        self._nominated = dtls.transport._connection._nominated  # the same dict for good
        self._outbox: list[bytes] = []
        self._flusher = Flusher.of(asyncio.get_running_loop())
        self._pair: Any = None
        self._socket: Socket | None = None
        self.closed = False
        self._hook()

    def _rx_srtp(self) -> Srtp | None:
        """aiortc's receiving session, wrapped (it exists once the handshake keyed it)."""
        session = self.dtls._rx_srtp
        if session is not self._rx_session:
            self._rx_session = session
            self._rx = None if session is None else fast_srtp(session)
        return self._rx

    def _tx_srtp(self) -> Srtp:
        session = self.dtls._tx_srtp
        if session is not self._tx_session:
            self._tx_session = session
            self._tx = fast_srtp(session)
        assert self._tx is not None
        return self._tx

    # --- in ------------------------------------------------------------------------------

    def _hook(self) -> None:
        dtls = self.dtls
        connection = dtls.transport._connection
        if getattr(connection, WIRE_HOOKED, None) is not None:
            raise RuntimeError("this transport already has a packet wire")
        queued = connection.data_received
        queue = connection._queue
        on_rtp, on_rtcp = self._on_rtp, self._on_rtcp
        clock = time.monotonic

        rx_srtp = self._rx_srtp

        def data_received(data: bytes, component: int) -> None:
            srtp = rx_srtp()
            if (
                srtp is None
                or len(data) < 2
                or not queue.empty()
                or dtls._state is not DTLS_CONNECTED
                or not getattr(dtls, DTLS_HANDSHAKE_DONE)
                or not 127 < data[0] < 192
            ):
                queued(data, component)
                return
            try:
                if 191 < data[1] < 224:
                    on_rtcp(srtp.unprotect_rtcp(data), clock())
                else:
                    on_rtp(srtp.unprotect(data), clock())
            except pylibsrtp.Error:
                pass  # as aiortc: what fails SRTP is dropped
            except Exception:
                log.exception("SFU packet path failed")

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            try:
                on_rtp(data, clock())
            except Exception:
                log.exception("SFU packet path failed")

        async def handle_rtcp_data(data: bytes) -> None:
            try:
                on_rtcp(data, clock())
            except Exception:
                log.exception("SFU packet path failed")

        connection.data_received = data_received
        dtls._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]
        dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]
        for protocol in connection._protocols:
            if type(protocol) is StunProtocol:
                _shortcut(protocol, data_received, self._flusher)
        setattr(connection, WIRE_HOOKED, self)

    # --- out -----------------------------------------------------------------------------

    def send_rtp(self, packet: bytes) -> int:
        """Send one RTP packet at the end of this loop turn; its size (0: it will not be sent)."""
        if self.dtls._state is not DTLS_CONNECTED:
            return 0
        if not self._backlog:
            pair = self._nominated.get(1)
            if pair is not None and type(pair.protocol) is StunProtocol:
                outbox = self._outbox
                if not outbox:
                    self._flusher.mark(self)
                outbox.append(packet)
                return len(packet)
            if pair is None:
                return 0
        self._queue(packet)
        return len(packet)

    def flush(self) -> None:
        """Protect and send the packets of this turn (outbox.Flusher calls it)."""
        packets, self._outbox = self._outbox, []
        if self.closed or self.dtls._state is not DTLS_CONNECTED:
            return
        pair = self._nominated.get(1)
        if pair is None:
            return
        if type(pair.protocol) is not StunProtocol:  # the pair changed to a relay meanwhile
            for packet in packets:
                self._queue(packet)
            return
        if pair is not self._pair or self._socket is None:
            self._pair = pair
            self._socket = Socket(pair.protocol.transport, pair.remote_addr)
        self._socket.send(self._tx_srtp(), packets)

    def send_rtcp(self, packet: bytes) -> None:
        """Protect and send one compound RTCP packet now."""
        dtls = self.dtls
        if dtls._state is not DTLS_CONNECTED:
            return
        if not self._backlog:
            pair = self._nominated.get(1)
            if pair is not None and type(pair.protocol) is StunProtocol:
                pair.protocol.transport.sendto(
                    self._tx_srtp().protect_rtcp(packet), pair.remote_addr
                )
                return
            if pair is None:
                return
        self._queue(packet)

    @property
    def connected(self) -> bool:
        return self.dtls._state is DTLS_CONNECTED

    def _queue(self, packet: bytes) -> None:
        if len(self._backlog) >= 1000:
            self._backlog.popleft()  # a relay that cannot keep up: late media is useless
        self._backlog.append(packet)
        if self._backlog_task is None and not self.closed:
            self._backlog_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._backlog:
                await self.dtls._send_rtp(self._backlog.popleft())
        except ConnectionError:
            self._backlog.clear()
        except Exception:
            log.exception("SFU relay send failed")
            self._backlog.clear()
        finally:
            self._backlog_task = None

    def close(self) -> None:
        self.closed = True
        self._outbox.clear()
        self._backlog.clear()
        if self._backlog_task is not None:
            self._backlog_task.cancel()
            self._backlog_task = None


def _shortcut(
    protocol: StunProtocol, data_received: Callable[[bytes, int], None], flusher: Flusher
) -> None:
    """SRTP/SRTCP datagrams of this socket straight to `data_received`, all it holds (see Wire).

    aioice's `StunProtocol.datagram_received` tries each datagram as STUN and
    hands what fails to parse to `Connection.data_received`; RTP and RTCP
    (first byte 128..191, RFC 7983) never parse as STUN (0..3), so they go
    there directly. Everything else takes aioice's way. Datagrams read here
    beyond the one asyncio read skip asyncio's error reporting: a read error
    (an ICMP error on UDP) ends the callback, and aioice only logs them.
    """
    original = protocol.datagram_received
    component = protocol.local_candidate.component
    transport = protocol.transport
    if isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = RECEIVE_SIZE  # type: ignore[union-attr]
    sock = getattr(transport, "_sock", None)

    def one(data: bytes, addr: tuple[Any, ...]) -> None:
        if data and 127 < data[0] < 192:
            data_received(data, component)
        else:
            original(data, addr)

    def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
        held, flusher.holding = flusher.holding, True
        try:
            one(data, addr)
            if sock is not None:
                for count in range(1, DRAIN_MAX):
                    if transport.is_closing():
                        break
                    try:
                        data, addr = sock.recvfrom(RECEIVE_SIZE)
                    except OSError:
                        break  # BlockingIOError: nothing more
                    if not count % FLUSH_EVERY:
                        flusher.flush()  # a backlog: what is ready goes now, not after all of it
                    one(data, addr)
        finally:
            flusher.holding = held
            if not held:
                flusher.flush()

    protocol.datagram_received = datagram_received  # type: ignore[method-assign]
