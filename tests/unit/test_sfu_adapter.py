"""The aiortc/aioice internals roomtone/sfu/aiortc_adapter/ relies on.

These fail loudly when an aiortc or aioice upgrade moves them: every test
drives the real aiortc classes (receiver, sender, ICE connection) through the
adapter, with an in-memory DTLS transport and no network. The adapter
package's docstring maps each reached-into name to the test here that guards
it; test_the_adapter_table_is_complete keeps that table honest.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import queue
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import aioice
import aiortc
import av
import pylibsrtp
import pytest
from aioice import Candidate, Connection
from aioice.ice import CandidatePair, StunProtocol, get_host_addresses
from aiortc import (
    MediaStreamTrack,
    RTCCertificate,
    RTCConfiguration,
    RTCDtlsTransport,
    RTCIceGatherer,
    RTCIceTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpDecodingParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RtcpPsfbPacket,
    RtpPacket,
)

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.aiortc_adapter import names
from roomtone.sfu.packetize import OpusPacker, OutFrame, Vp8Packer
from roomtone.sfu.ports import PortRange
from tests.sfupeer import udp_port_free

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)


class MemoryTransport:
    """Just enough of RTCDtlsTransport for one RTCRtpSender/RTCRtpReceiver."""

    state = "connected"
    _stats_id = "memory"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def _register_rtp_receiver(self, receiver: object, parameters: object) -> None:
        pass

    def _unregister_rtp_receiver(self, receiver: object) -> None:
        pass

    def _register_rtp_sender(self, sender: object, parameters: object) -> None:
        pass

    def _unregister_rtp_sender(self, sender: object) -> None:
        pass

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)


class Sink:
    def __init__(self) -> None:
        self.frames: list[tuple[bytes, int]] = []
        self.ended = False

    def on_frame(self, data: bytes, timestamp: int) -> None:
        self.frames.append((data, timestamp))

    def on_end(self) -> None:
        self.ended = True


class FramesTrack(MediaStreamTrack):
    def __init__(self, kind: str, frames: list[OutFrame]) -> None:
        super().__init__()
        self.kind = kind
        self._frames = list(frames)

    async def recv(self) -> OutFrame:  # type: ignore[override]
        if not self._frames:
            await asyncio.sleep(3600)
        return self._frames.pop(0)


@pytest.fixture
def no_codecs() -> Iterator[None]:
    restore = adapter.forbid_codecs()
    try:
        yield
    finally:
        restore()


def test_tested_versions() -> None:
    assert aiortc.__version__.startswith(adapter.TESTED_AIORTC), aiortc.__version__
    assert aioice.__version__.startswith(adapter.TESTED_AIOICE), aioice.__version__


async def test_private_attributes_exist() -> None:
    receiver = RTCRtpReceiver("audio", MemoryTransport())  # type: ignore[arg-type]
    assert isinstance(getattr(receiver, names.RECEIVER_DECODER_QUEUE), queue.Queue)
    assert getattr(receiver, names.RECEIVER_DECODER_THREAD) is None
    sender = RTCRtpSender("video", MemoryTransport())  # type: ignore[arg-type]
    assert getattr(sender, names.SENDER_ENCODER) is None
    assert list(inspect.signature(sender._send_keyframe).parameters) == []
    # forbid_codecs replaces these module-level names.
    assert aiortc.rtcrtpreceiver.get_decoder is aiortc.codecs.get_decoder
    assert aiortc.rtcrtpsender.get_encoder is aiortc.codecs.get_encoder
    source = inspect.getsource(Connection.get_component_candidates)
    assert "create_datagram_endpoint" in source and "local_addr=(address, 0)" in source


def test_forbid_codecs_makes_every_factory_raise(no_codecs: None) -> None:
    with pytest.raises(adapter.CodecForbidden):
        av.CodecContext.create("libvpx", "r")
    with pytest.raises(adapter.CodecForbidden):
        aiortc.rtcrtpreceiver.get_decoder(VP8)
    with pytest.raises(adapter.CodecForbidden):
        aiortc.rtcrtpsender.get_encoder(OPUS)
    with pytest.raises(adapter.CodecForbidden):
        aiortc.codecs.opus.OpusEncoder()


def _rtp(payloads: list[bytes], seq: int, timestamp: int, pt: int = 97) -> list[RtpPacket]:
    packets = []
    for i, payload in enumerate(payloads):
        packet = RtpPacket(payload_type=pt, sequence_number=seq + i, timestamp=timestamp)
        packet.ssrc = 1234
        packet.payload = payload
        packet.marker = int(i == len(payloads) - 1)
        packets.append(packet)
    return packets


async def _started_receiver(kind: str, codec: RTCRtpCodecParameters, sink: Sink) -> RTCRtpReceiver:
    receiver = RTCRtpReceiver(kind, MemoryTransport())  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind=kind)
    adapter.tap_receiver(receiver, sink, on_end=sink.on_end)
    await receiver.receive(
        RTCRtpReceiveParameters(
            codecs=[codec],
            encodings=[RTCRtpDecodingParameters(ssrc=1234, payloadType=codec.payloadType)],
        )
    )
    return receiver


def _vp8_packets(frames: list[bytes], seq: int = 100) -> list[list[RtpPacket]]:
    packer = Vp8Packer()
    out = []
    for i, frame in enumerate(frames):
        payloads, _ = packer.pack(OutFrame(frame, i * 3000))
        out.append(_rtp(payloads, seq, 5000 + i * 3000))
        seq += len(payloads)
    return out


FRAMES = [bytes([i]) * (500 + 1500 * i) for i in range(4)]  # 1, 2, 3 and 4 packets


async def test_tap_delivers_reassembled_vp8_frames_without_decoding(no_codecs: None) -> None:
    sink = Sink()
    receiver = await _started_receiver("video", VP8, sink)
    thread = getattr(receiver, names.RECEIVER_DECODER_THREAD)
    thread.join(2)
    assert not thread.is_alive(), "the decoder thread must exit before decoding anything"
    for packets in _vp8_packets(FRAMES):
        for packet in packets:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    # aiortc's own jitter buffer releases a frame when the next one starts.
    assert sink.frames == [(frame, i * 3000) for i, frame in enumerate(FRAMES[:-1])]
    await receiver.stop()
    assert sink.ended


async def test_tap_refuses_a_receiver_that_already_started(no_codecs: None) -> None:
    receiver = await _started_receiver("audio", OPUS, Sink())
    with pytest.raises(RuntimeError):  # aiortc handed the queue to its decoder thread
        adapter.tap_receiver(receiver, Sink())
    await receiver.stop()


async def test_packer_replaces_the_encoder_and_sends_rtp(no_codecs: None) -> None:
    transport = MemoryTransport()
    frames = [OutFrame(b"\x10" * 3000, 0), OutFrame(b"\x11" * 100, 3000)]
    sender = RTCRtpSender(FramesTrack("video", frames), transport)  # type: ignore[arg-type]
    adapter.install_packer(sender, Vp8Packer())
    with pytest.raises(RuntimeError):
        adapter.install_packer(sender, Vp8Packer())  # the slot is taken
    await sender.send(
        RTCRtpSendParameters(codecs=[VP8], muxId="0", rtcp=RTCRtcpParameters(cname="x"))
    )
    for _ in range(100):
        if len([d for d in transport.sent if d[1] == 97]) >= 4:
            break
        await asyncio.sleep(0.01)
    packets = [RtpPacket.parse(d) for d in transport.sent if d[1] & 0x7F == 97]
    assert len(packets) == 4  # 3000 bytes → 3 payloads, then 1
    assert packets[1].timestamp == packets[0].timestamp
    assert (packets[3].timestamp - packets[0].timestamp) % (1 << 32) == 3000
    assert [p.marker for p in packets] == [0, 0, 1, 1]
    await sender.stop()


async def test_opus_sender_never_opens_an_encoder(no_codecs: None) -> None:
    transport = MemoryTransport()
    sender = RTCRtpSender(FramesTrack("audio", [OutFrame(b"op", 0)]), transport)  # type: ignore[arg-type]
    adapter.install_packer(sender, OpusPacker())
    frame = await sender._next_encoded_frame(OPUS)
    assert frame is not None and frame.payloads == [b"op"] and frame.timestamp == 0


async def test_keyframe_requests_reach_the_callback() -> None:
    sender = RTCRtpSender("video", MemoryTransport())  # type: ignore[arg-type]
    calls: list[int] = []
    adapter.on_keyframe_request(sender, lambda: calls.append(1))
    for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
        await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
    assert calls == [1, 1]


def test_parse_candidate_accepts_browser_json() -> None:
    candidate = adapter.parse_candidate(
        {
            "candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host generation 0",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "abcd",
        }
    )
    assert candidate is not None
    assert (candidate.ip, candidate.port, candidate.type, candidate.sdpMid) == (
        "192.0.2.2",
        50000,
        "host",
        "0",
    )
    assert adapter.parse_candidate({"candidate": ""}) is None
    with pytest.raises(ValueError):
        adapter.parse_candidate({"candidate": 5})


def _free_range(size: int) -> PortRange:
    """A run of `size` ports that are free on every host address right now."""
    for base in range(42000, 60000, 97):
        ports = range(base, base + size)
        if all(udp_port_free(port) for port in ports):
            return PortRange(base, base + size - 1)
    raise RuntimeError("no free port range")


async def test_host_candidates_bind_inside_the_port_range() -> None:
    ports = _free_range(10)
    connection = Connection(ice_controlling=False)
    try:
        with adapter.ports_from(ports) as scope:
            await connection.gather_candidates()
        assert scope is not None and not scope.exhausted
        hosts = [c for c in connection.local_candidates if c.type == "host"]
        assert hosts and all(c.port in ports for c in hosts), hosts
    finally:
        await connection.close()
    # Outside the scope aioice binds wherever the OS says.
    other = Connection(ice_controlling=False)
    try:
        await other.gather_candidates()
        assert other.local_candidates
    finally:
        await other.close()


async def test_a_full_port_range_is_reported() -> None:
    ports = _free_range(1)
    blockers = []
    for address in get_host_addresses(use_ipv4=True, use_ipv6=True):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, ports.low))
        blockers.append(sock)
    connection = Connection(ice_controlling=False)
    try:
        with adapter.ports_from(ports) as scope:
            await connection.gather_candidates()
        assert scope is not None and scope.exhausted
        assert connection.local_candidates == []
    finally:
        await connection.close()
        for sock in blockers:
            sock.close()


async def test_create_offer_keeps_negotiated_rtp_parameters() -> None:

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # never a public STUN server
    try:
        negotiated = pc.addTransceiver("video", direction="sendonly")
        fresh = pc.addTransceiver("audio", direction="sendonly")
        browser_vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
        negotiated._codecs = [browser_vp8]
        negotiated._headerExtensions = []
        negotiated._setCurrentDirection("sendonly")
        await pc.createOffer()
        assert negotiated._codecs != [browser_vp8], "aiortc no longer resets: simplify create_offer"
        negotiated._codecs = [browser_vp8]
        negotiated._headerExtensions = []
        offer = await adapter.create_offer(pc)
        assert negotiated._codecs == [browser_vp8] and negotiated._headerExtensions == []
        assert fresh._codecs and "VP8/90000" in offer.sdp
    finally:
        await pc.close()


# --- the wire: SRTP in from the socket callback, out to the nominated pair -------------------


class UdpRecorder:
    """The asyncio DatagramTransport under aioice's StunProtocol."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))


class RelayProtocol:
    """Not a plain StunProtocol (as aioice's TURN protocols): aiortc's async path is used."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send_data(self, data: bytes, addr: tuple[str, int]) -> None:
        await asyncio.sleep(0)
        self.sent.append(data)


class PlainSrtp:
    """Stands in for the pylibsrtp Session aiortc creates after the DTLS handshake."""

    def protect(self, data: bytes) -> bytes:
        return b"P" + data

    def protect_rtcp(self, data: bytes) -> bytes:
        return b"C" + data


REMOTE = ("127.0.0.9", 9999)


def _connected_dtls(protocol: object) -> RTCDtlsTransport:
    """A real RTCDtlsTransport/RTCIceTransport/aioice Connection, faked only below the SRTP
    session and the nominated pair (what a finished handshake and ICE check leave behind)."""
    ice = RTCIceTransport(RTCIceGatherer())
    dtls = RTCDtlsTransport(ice, [RTCCertificate.generateCertificate()])
    dtls._state = DtlsState.CONNECTED
    dtls._tx_srtp = PlainSrtp()
    remote = Candidate("1", 1, "udp", 1, REMOTE[0], REMOTE[1], "host")
    ice._connection._nominated[1] = CandidatePair(protocol, remote)  # type: ignore[arg-type]
    return dtls


def _stun_protocol() -> tuple[StunProtocol, UdpRecorder]:
    protocol = StunProtocol(None)  # type: ignore[arg-type]
    recorder = UdpRecorder()
    protocol.transport = recorder  # type: ignore[assignment]
    return protocol, recorder


async def test_idle_transceiver_never_starts_aiortcs_rtp(no_codecs: None) -> None:
    """aiortc's __connect starts receivers and senders through these two calls only."""
    connect = inspect.getsource(RTCPeerConnection._RTCPeerConnection__connect)  # type: ignore[attr-defined]
    assert "await transceiver.sender.send(self.__localRtp(transceiver))" in connect
    assert "await transceiver.receiver.receive(" in connect
    protocol, _ = _stun_protocol()
    dtls = _connected_dtls(protocol)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        transceiver = pc.addTransceiver("video", direction="sendrecv")
        transceiver.receiver.setTransport(dtls)
        transceiver.sender.setTransport(dtls)
        started: list[object] = []
        adapter.idle_transceiver(transceiver, started.append)
        await transceiver.sender.send(RTCRtpSendParameters(codecs=[VP8], muxId="0"))
        await transceiver.receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
        assert started == [dtls, dtls]
        assert getattr(transceiver.receiver, names.RECEIVER_DECODER_THREAD) is None
        assert dtls._rtp_router.receivers == set() and dtls._rtp_router.senders == {}
        await asyncio.wait_for(transceiver.stop(), 1)  # never started: nothing to wait for
    finally:
        await pc.close()


class ClearSrtp:
    """Receive side of the SRTP session stand-in: packets are clear; b"\\x80\\xff" fails."""

    def unprotect(self, data: bytes) -> bytes:
        if data[1] == 0xFF:
            raise pylibsrtp.Error("bad")
        return data

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return data


def _wired(protocol: object) -> tuple[RTCDtlsTransport, adapter.Wire, list[bytes], list[bytes]]:
    dtls = _connected_dtls(protocol)
    dtls._rx_srtp = ClearSrtp()
    setattr(dtls, names.DTLS_HANDSHAKE_DONE, True)
    rtp: list[bytes] = []
    rtcp: list[bytes] = []
    wire = adapter.Wire(
        dtls, lambda data, now: rtp.append(data), lambda data, now: rtcp.append(data)
    )
    return dtls, wire, rtp, rtcp


async def test_wire_unprotects_in_the_datagram_callback() -> None:
    protocol, _ = _stun_protocol()
    dtls, wire, rtp, rtcp = _wired(protocol)
    connection = dtls.transport._connection
    packets = [_rtp([b"opus%d" % seq], seq, 960 * seq, pt=96)[0].serialize() for seq in (1, 2)]
    connection.data_received(packets[0], 1)
    assert rtp == [packets[0]] and connection._queue.empty()  # at once, no task switch
    report = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=2))
    connection.data_received(report, 1)
    assert rtcp == [report]
    connection.data_received(b"\x80\xff" + packets[1][2:], 1)  # fails SRTP: dropped
    assert len(rtp) == 1 and connection._queue.empty()
    # DTLS records, and anything behind them, keep going through aiortc's queue (in order)…
    connection.data_received(b"\x16dtls", 1)
    connection.data_received(packets[1], 1)
    assert connection._queue.qsize() == 2 and len(rtp) == 1
    # …whose reader hands SRTP to the same handlers.
    await dtls._handle_rtp_data(packets[1], arrival_time_ms=0)
    await dtls._handle_rtcp_data(report)
    assert rtp[-1] == packets[1] and len(rtcp) == 2
    with pytest.raises(RuntimeError):
        adapter.Wire(dtls, lambda d, n: None, lambda d, n: None)  # one wire per transport
    wire.close()


async def test_wire_sends_on_the_nominated_pair() -> None:
    protocol, udp = _stun_protocol()
    dtls, wire, _, _ = _wired(protocol)
    rtp = _rtp([b"x" * 100], 7, 90_000)[0].serialize()
    assert wire.send_rtp(rtp) == len(rtp)
    report = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=2))
    wire.send_rtcp(report)
    assert udp.sent == [(b"C" + report, REMOTE)]  # RTCP at once, RTP at the end of the turn
    await asyncio.sleep(0)
    assert udp.sent[1:] == [(b"P" + rtp, REMOTE)]
    dtls._state = DtlsState.CLOSED
    assert wire.send_rtp(rtp) == 0 and len(udp.sent) == 2  # closed: nothing goes out
    wire.close()


async def test_wire_uses_aiortcs_path_over_a_relay() -> None:
    relay = RelayProtocol()
    _, wire, _, _ = _wired(relay)
    packets = [_rtp([bytes([i]) * 50], i, 0)[0].serialize() for i in range(3)]
    for packet in packets:
        wire.send_rtp(packet)
    for _ in range(50):
        if len(relay.sent) == 3:
            break
        await asyncio.sleep(0)
    assert relay.sent == [b"P" + p for p in packets]  # in order, through _send_rtp
    wire.close()


async def test_wire_takes_media_from_the_socket_before_stun_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    protocol, _ = _stun_protocol()
    dtls = _connected_dtls(protocol)
    connection = dtls.transport._connection
    transport, own = await loop.create_datagram_endpoint(
        lambda: StunProtocol(connection), local_addr=("127.0.0.1", 0)
    )
    own.local_candidate = Candidate("1", 1, "udp", 1, "127.0.0.1", 1, "host")
    connection._protocols.append(own)
    parsed: list[bytes] = []
    parse = aioice.stun.parse_message

    def counting(data: bytes) -> object:
        parsed.append(data)
        return parse(data)

    monkeypatch.setattr(aioice.ice.stun, "parse_message", counting)
    dtls._rx_srtp = ClearSrtp()
    setattr(dtls, names.DTLS_HANDSHAKE_DONE, True)
    rtp: list[bytes] = []
    wire = adapter.Wire(dtls, lambda data, now: rtp.append(data), lambda data, now: None)
    assert transport.max_size == adapter.wire.RECEIVE_SIZE  # type: ignore[attr-defined]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packet = _rtp([b"x" * 2000], 1, 0)[0].serialize()
        sender.sendto(packet, transport.get_extra_info("sockname"))
        sender.sendto(b"\x16dtls", transport.get_extra_info("sockname"))
        for _ in range(100):
            if connection._queue.qsize():
                break
            await asyncio.sleep(0.01)
    finally:
        sender.close()
        transport.close()
    assert rtp == [packet] and parsed == [b"\x16dtls"]  # media skipped the STUN parse
    assert connection._queue.get_nowait() == (b"\x16dtls", 1)
    # What the shortcut and RECEIVE_SIZE stand in for:
    assert "message = stun.parse_message(data)" in inspect.getsource(StunProtocol)
    read_ready = inspect.getsource(type(transport)._read_ready)  # type: ignore[attr-defined]
    assert "recvfrom(self.max_size)" in read_ready
    wire.close()


class RecordingSocket:
    """A real UDP socket that notes its sends, and can refuse GSO like a device without it."""

    def __init__(self, sock: socket.socket, refuse_gso: bool = False) -> None:
        self.sock = sock
        self.refuse_gso = refuse_gso
        self.calls: list[tuple[str, int]] = []  # (call, bytes)

    def sendto(self, data: memoryview, addr: tuple[str, int]) -> int:
        self.calls.append(("sendto", len(data)))
        return self.sock.sendto(data, addr)

    def sendmsg(
        self, buffers: list[memoryview], ancdata: list[object], flags: int, addr: object
    ) -> int:
        self.calls.append(("sendmsg", sum(len(b) for b in buffers)))
        if self.refuse_gso:
            raise OSError(errno.EIO, "no GSO here")
        return self.sock.sendmsg(buffers, ancdata, flags, addr)


@pytest.mark.parametrize("refuse_gso", [False, True])
async def test_outbox_sends_runs_of_equal_packets_in_one_call(refuse_gso: bool) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2)
    key = bytes(range(30))
    sizes = [1200, 1200, 1200, 700, 100, 1200, 1200]
    packets = [p.serialize() for p in _rtp([bytes([i]) * n for i, n in enumerate(sizes)], 1, 0)]
    try:
        out = adapter.outbox.Socket(transport, receiver.getsockname())
        assert out.sock is transport._sock  # type: ignore[attr-defined]
        recorder = RecordingSocket(transport._sock, refuse_gso)  # type: ignore[attr-defined]
        out.sock = recorder  # type: ignore[assignment]
        out.send(adapter.fast_srtp(_srtp_session(key, False)), packets)
        unprotect = adapter.fast_srtp(_srtp_session(key, True)).unprotect
        assert [unprotect(receiver.recv(2048)) for _ in packets] == packets  # each, in order
    finally:
        receiver.close()
        transport.close()
    if refuse_gso:  # the kernel said no: one datagram a packet from then on
        assert not out.gso and [c for c, _ in recorder.calls[1:]] == ["sendto"] * len(sizes)
    else:  # 1200 x3 + the shorter 700 end a run; 100 alone; then 1200 x2
        assert [c for c, _ in recorder.calls] == ["sendmsg", "sendto", "sendmsg"]
        assert "_sock" in inspect.getsource(type(transport).__init__)


def _srtp_session(key: bytes, inbound: bool) -> pylibsrtp.Session:
    policy = pylibsrtp.Policy(
        key=key,
        ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND
        if inbound
        else pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    return pylibsrtp.Session(policy)


def test_fast_srtp_does_what_pylibsrtp_does() -> None:
    key = bytes(range(30))
    reference, fast = _srtp_session(key, False), adapter.fast_srtp(_srtp_session(key, False))
    receiver = adapter.fast_srtp(_srtp_session(key, True))
    assert isinstance(fast, adapter.FastSrtp) and isinstance(receiver, adapter.FastSrtp)
    packets = [p.serialize() for p in _rtp([b"v" * 1300, b"w" * 40], 100, 9000)]
    for packet in packets:
        protected = fast.protect(packet)
        assert bytes(protected) == reference.protect(packet)
        assert receiver.unprotect(bytes(protected)) == packet
    report = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=2))
    protected = bytes(fast.protect_rtcp(report))
    assert protected == reference.protect_rtcp(report)
    assert receiver.unprotect_rtcp(protected) == report
    with pytest.raises(pylibsrtp.Error):
        receiver.unprotect(reference.protect(packets[0]))  # a replay
    with pytest.raises(pylibsrtp.Error):
        receiver.unprotect(bytes(fast.protect(_rtp([b"t"], 102, 0)[0].serialize()))[:-1] + b"!")
    with pytest.raises(pylibsrtp.Error):
        fast.protect(packets[0][:12] + bytes(adapter.srtp.BUFFER))
    plain = PlainSrtp()
    assert adapter.fast_srtp(plain) is plain  # a stand-in is used as it is


def test_recv_next_is_what_the_wire_replicates() -> None:
    recv_next = inspect.getsource(RTCDtlsTransport._recv_next)
    for needle in (
        "if not self.__handshake_done:",
        "data = await self.transport._recv()",
        "first_byte > 127 and first_byte < 192 and self._rx_srtp",
        "data = self._rx_srtp.unprotect_rtcp(data)",
        "await self._handle_rtcp_data(data)",
        "data = self._rx_srtp.unprotect(data)",
        "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)",
        "except pylibsrtp.Error",
    ):
        assert needle in recv_next, needle
    assert "def is_rtcp(msg: bytes) -> bool:" in inspect.getsource(aiortc.rtp)
    assert "self._recv = self._connection.recv" in inspect.getsource(RTCIceTransport)
    assert "self.receiver.data_received(data" in inspect.getsource(StunProtocol)
    assert "self._queue.put_nowait((data, component))" in inspect.getsource(
        Connection.data_received
    )
    assert "await self._queue.get()" in inspect.getsource(Connection.recvfrom)


def test_send_rtp_is_what_the_wire_replicates() -> None:
    send_rtp = inspect.getsource(RTCDtlsTransport._send_rtp)
    for needle in (
        "self._state != State.CONNECTED",
        "data = self._tx_srtp.protect_rtcp(data)",
        "data = self._tx_srtp.protect(data)",
        "await self.transport._send(data)",
    ):
        assert needle in send_rtp, needle
    sendto = inspect.getsource(Connection.sendto)
    assert "self._nominated.get(component)" in sendto
    assert "await active_pair.protocol.send_data(data, active_pair.remote_addr)" in sendto
    assert "self.transport.sendto(data, addr)" in inspect.getsource(StunProtocol.send_data)
    assert "self._send = self._connection.send" in inspect.getsource(RTCIceTransport)


def _adapter_table() -> tuple[list[str], list[tuple[str, str]]]:
    """The package docstring's table: group headings (adapter modules) and (name, test) rows."""
    doc = adapter.__doc__ or ""
    rules = [i for i, line in enumerate(doc.splitlines()) if line.startswith("=====")]
    assert len(rules) == 3, "the table is framed by three ===== rules"
    headings, rows = [], []
    for line in doc.splitlines()[rules[1] + 1 : rules[2]]:
        first = line.split(" ", 1)[0]
        if first.endswith(".py:"):
            headings.append(first[:-1])
            continue
        name, test = line.split()
        rows.append((name, test))
    return headings, rows


def test_the_adapter_table_is_complete() -> None:
    headings, rows = _adapter_table()
    package = Path(adapter.__file__).parent
    modules = {p.name for p in package.glob("*.py")} - {"__init__.py", "names.py"}
    assert set(headings) == modules, "every adapter module has a group in the table"
    for name, test in rows:
        assert inspect.isfunction(globals().get(test)), f"{name}: no contract test {test}"
    listed = {name for name, _ in rows}
    for constant, value in vars(names).items():
        mangled = re.fullmatch(r"_(RTC\w+?)__(\w+)", value) if isinstance(value, str) else None
        if mangled:
            assert f"{mangled[1]}.__{mangled[2]}" in listed, f"names.{constant} not in the table"


async def test_dtls_role_of_the_first_exchange_sticks() -> None:
    """dtlsrole.py: a later `_set_role` (Firefox's `a=setup:active` on a new bundled
    section) never changes the role the first exchange gave a transport."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        adapter.pin_dtls_roles(pc)  # nothing to guard yet
        pc.addTransceiver("audio", direction="recvonly")
        adapter.pin_dtls_roles(pc)
        adapter.pin_dtls_roles(pc)  # idempotent
        (transport,) = adapter.dtls_transports(pc)
        assert adapter.dtls_role(transport) == "auto"
        transport._set_role("client")  # the first exchange decides
        transport._set_role("client")
        transport._set_role("server")
        assert adapter.dtls_role(transport) == "client"
        assert adapter.ignored_role_changes(transport) == 1
    finally:
        await pc.close()
