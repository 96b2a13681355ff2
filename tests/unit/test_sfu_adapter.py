"""The aiortc/aioice internals roomtone/sfu/aiortc_adapter/ relies on.

These fail loudly when an aiortc or aioice upgrade moves them: every test
drives the real aiortc classes (receiver, sender, ICE connection) through the
adapter, with an in-memory DTLS transport and no network. The adapter
package's docstring maps each reached-into name to the test here that guards
it; test_the_adapter_table_is_complete keeps that table honest.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

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
    clock,
)
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpDecodingParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensionsMap,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
)

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.aiortc_adapter import names
from roomtone.sfu.aiortc_adapter.receiving import drive
from roomtone.sfu.forwarder import Forwarder, SlotTrack
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
    jitter = getattr(receiver, names.RECEIVER_JITTER_BUFFER)
    assert (jitter.capacity, jitter._is_video, jitter._prefetch) == (16, False, 4)
    for name in ("_packets", "_origin", "_capacity", "remove"):
        assert hasattr(jitter, name), name
    sender = RTCRtpSender("video", MemoryTransport())  # type: ignore[arg-type]
    assert getattr(sender, names.SENDER_ENCODER) is None
    assert list(inspect.signature(sender._send_keyframe).parameters) == []
    assert inspect.iscoroutinefunction(RTCRtpReceiver._send_rtcp_pli)
    assert list(inspect.signature(RTCRtpReceiver._send_rtcp_pli).parameters) == [
        "self",
        "media_ssrc",
    ]
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


async def _started_receiver(
    kind: str, codec: RTCRtpCodecParameters, sink: Sink, forwarding: bool = True
) -> RTCRtpReceiver:
    receiver = RTCRtpReceiver(kind, MemoryTransport())  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind=kind)
    adapter.tap_receiver(receiver, sink, forwarding=forwarding, on_end=sink.on_end)
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
    receiver = await _started_receiver("video", VP8, sink, forwarding=False)
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
    receiver = await _started_receiver("audio", OPUS, Sink(), forwarding=False)
    with pytest.raises(RuntimeError):  # aiortc handed the queue to its decoder thread
        adapter.tap_receiver(receiver, Sink(), forwarding=False)
    await receiver.stop()


async def test_forwarding_releases_each_frame_when_complete(no_codecs: None) -> None:
    sink = Sink()
    receiver = await _started_receiver("video", VP8, sink)
    frames = _vp8_packets(FRAMES)
    for i, packets in enumerate(frames):
        if i == 2:  # reordered: the marker packet first, then the rest
            packets = packets[-1:] + packets[:-1]
        for packet in packets[:-1]:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert len(sink.frames) == i  # incomplete: held back
        await receiver._handle_rtp_packet(packets[-1], arrival_time_ms=0)
        assert sink.frames[-1] == (FRAMES[i], i * 3000)  # complete: out at once
    await receiver.stop()


async def test_forwarding_audio_goes_out_per_packet_across_gaps(no_codecs: None) -> None:
    sink = Sink()
    receiver = await _started_receiver("audio", OPUS, sink)
    for seq in (10, 11, 13, 14, 12):  # 12 is lost, then arrives too late
        for packet in _rtp([b"opus%d" % seq], seq, 960 * seq, pt=96):
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    assert [data for data, _ in sink.frames] == [b"opus10", b"opus11", b"opus13", b"opus14"]
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


async def test_send_pli_addresses_the_publisher_ssrc() -> None:
    transport = MemoryTransport()
    receiver = RTCRtpReceiver("video", transport)  # type: ignore[arg-type]
    receiver._set_rtcp_ssrc(4321)
    adapter.send_pli(receiver, 1234)
    await asyncio.sleep(0.01)
    (packet,) = RtcpPacket.parse(transport.sent[0])
    assert isinstance(packet, RtcpPsfbPacket)
    assert (packet.fmt, packet.ssrc, packet.media_ssrc) == (RTCP_PSFB_PLI, 4321, 1234)


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


@pytest.mark.parametrize("seed", range(20))
async def test_forwarding_jitter_buffer_survives_loss_and_reordering(
    seed: int, no_codecs: None
) -> None:
    import random

    rng = random.Random(seed)
    frames = [bytes([i % 256]) * rng.randint(1, 4000) for i in range(60)]
    packets = [p for group in _vp8_packets(frames, seq=65500) for p in group]  # wraps
    # The first frame arrives intact: where the buffer starts is aiortc's business.
    head = len(_vp8_packets(frames[:1])[0])
    kept = packets[:head] + [p for p in packets[head:] if rng.random() > 0.05]
    for i in range(head, len(kept) - 1):
        if rng.random() < 0.1:
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    sink = Sink()
    receiver = await _started_receiver("video", VP8, sink)
    for packet in kept:
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    originals = {i * 3000: frame for i, frame in enumerate(frames)}
    assert sink.frames, "some frames must get through"
    for data, timestamp in sink.frames:
        assert originals[timestamp] == data  # never a partial or mixed frame
    timestamps = [t for _, t in sink.frames]
    assert timestamps == sorted(timestamps)
    await receiver.stop()


# --- ForwardingSender: aiortc's _run_rtp work, done synchronously ----------------------------

VP8_RTX = RTCRtpCodecParameters(
    mimeType="video/rtx", clockRate=90000, payloadType=98, parameters={"apt": 97}
)
EXTENSIONS = [
    RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
    RTCRtpHeaderExtensionParameters(
        id=3, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    ),
]


class Outlet:
    def __init__(self) -> None:
        self.send: Callable[[OutFrame], None] | None = None
        self.stopped = False

    def bind(self, send: Callable[[OutFrame], None] | None) -> None:
        self.send = send


class OutletTrack(MediaStreamTrack):
    kind = "video"

    async def recv(self) -> OutFrame:  # type: ignore[override]
        raise AssertionError("a forwarding sender never awaits its track")


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


async def _forwarding_sender(
    dtls: RTCDtlsTransport, rtx: bool = True
) -> tuple[RTCRtpSender, Outlet, adapter.ForwardingSender]:
    sender = RTCRtpSender(OutletTrack(), dtls)
    outlet = Outlet()
    fast = adapter.install_forwarding_sender(sender, Vp8Packer(), outlet)
    assert getattr(sender, names.SENDER_ENCODER) is not None  # no encoder can be made
    await sender.send(
        RTCRtpSendParameters(
            codecs=[VP8, VP8_RTX] if rtx else [VP8],
            headerExtensions=EXTENSIONS,
            muxId="7",
            rtcp=RTCRtcpParameters(cname="x"),
        )
    )
    for _ in range(10):
        if outlet.send is not None:
            break
        await asyncio.sleep(0)
    assert outlet.send is not None, "the sender's RTP task binds the outlet when it starts"
    return sender, outlet, fast


def _parse(datagrams: list[bytes]) -> list[RtpPacket]:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpSendParameters(headerExtensions=EXTENSIONS))
    packets = []
    for data in datagrams:
        assert data[:1] == b"P"  # went through SRTP protect
        packet = RtpPacket.parse(data[1:], extensions)
        assert packet.serialize(extensions) == data[1:]  # aiortc's own wire format
        packets.append(packet)
    return packets


async def test_forwarding_sender_sends_each_frame_like_run_rtp(no_codecs: None) -> None:
    protocol, udp = _stun_protocol()
    dtls = _connected_dtls(protocol)
    sender, outlet, _ = await _forwarding_sender(dtls)
    assert outlet.send is not None
    before = clock.current_ntp_time()
    outlet.send(OutFrame(b"\x10" * 3000, 1000))  # 3 payloads
    assert len(udp.sent) == 3  # synchronously, no task switch
    outlet.send(OutFrame(b"\x11" * 100, 4000))
    assert {addr for _, addr in udp.sent} == {REMOTE}
    packets = _parse([data for data, _ in udp.sent])
    seq0, ts0 = packets[0].sequence_number, packets[0].timestamp
    assert [p.sequence_number for p in packets] == [(seq0 + i) % 65536 for i in range(4)]
    assert [p.timestamp for p in packets] == [ts0] * 3 + [(ts0 + 3000) % (1 << 32)]
    assert [p.marker for p in packets] == [0, 0, 1, 1]
    assert {(p.payload_type, p.ssrc) for p in packets} == {(97, sender._ssrc)}
    assert all(p.extensions.mid == "7" for p in packets)
    for packet in packets:  # abs-send-time: 6.18 fixed point seconds, 24 bits
        assert (packet.extensions.abs_send_time - (before >> 14)) % (1 << 24) < 1 << 14
    assert b"".join(p.payload[4:] for p in packets) == b"\x10" * 3000 + b"\x11" * 100
    # What RTCP sender reports and getStats() read, and the transport's counters.
    stats = await sender.getStats()
    outbound = next(s for s in stats.values() if s.type == "outbound-rtp")
    assert (outbound.packetsSent, outbound.bytesSent) == (4, sum(len(p.payload) for p in packets))
    assert getattr(sender, names.SENDER_RTP_TIMESTAMP) == packets[-1].timestamp
    assert getattr(sender, names.SENDER_NTP_TIMESTAMP) >= before
    transport = next(s for s in stats.values() if s.type == "transport")
    assert (transport.packetsSent, transport.bytesSent) == (4, sum(len(d) for d, _ in udp.sent))
    # Sender reports (aiortc's _run_rtcp, unchanged) carry those counts.
    with (
        mock.patch("aiortc.rtcrtpsender.random.random", return_value=0),
        mock.patch("aiortc.rtcrtpsender.asyncio.sleep", side_effect=[None, asyncio.CancelledError]),
    ):
        await sender._run_rtcp()
    reports = [
        p
        for data, _ in udp.sent[4:]
        for p in RtcpPacket.parse(data[1:])
        if isinstance(p, RtcpSrPacket)
    ]
    assert len(reports) == 1
    info = reports[0].sender_info
    assert (info.packet_count, info.octet_count) == (4, outbound.bytesSent)
    assert info.rtp_timestamp == packets[-1].timestamp
    await sender.stop()


async def test_forwarding_sender_answers_nacks_from_its_history(no_codecs: None) -> None:
    for rtx in (True, False):
        protocol, udp = _stun_protocol()
        sender, outlet, _ = await _forwarding_sender(_connected_dtls(protocol), rtx=rtx)
        assert outlet.send is not None
        for i in range(3):
            outlet.send(OutFrame(bytes([i]) * 2000, i * 3000))  # 2 packets each
        originals = _parse([data for data, _ in udp.sent])
        lost = [originals[1].sequence_number, originals[4].sequence_number]
        nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=sender._ssrc, lost=lost)
        nack.lost.append((originals[0].sequence_number - 1) % 65536)  # never sent: ignored
        await sender._handle_rtcp_packet(nack)
        resent = [data for data, _ in udp.sent[6:]]
        assert len(resent) == 2
        if rtx:
            packets = _parse(resent)
            assert {(p.payload_type, p.ssrc) for p in packets} == {(98, sender._rtx_ssrc)}
            assert packets[1].sequence_number == (packets[0].sequence_number + 1) % 65536
            for packet, original in zip(packets, (originals[1], originals[4]), strict=True):
                assert packet.payload[:2] == original.sequence_number.to_bytes(2, "big")
                assert packet.payload[2:] == original.payload
                assert packet.timestamp == original.timestamp
                assert packet.extensions.mid == "7"
        else:
            assert resent == [udp.sent[1][0], udp.sent[4][0]]  # the same packets again
        await sender.stop()


async def test_forwarding_sender_drops_frames_while_disabled(no_codecs: None) -> None:
    protocol, udp = _stun_protocol()
    sender, outlet, _ = await _forwarding_sender(_connected_dtls(protocol))
    assert outlet.send is not None
    sender._enabled = False  # what RTCRtpTransceiver does for recvonly/inactive
    outlet.send(OutFrame(b"\x10" * 100, 0))
    assert udp.sent == []
    sender._enabled = True
    outlet.send(OutFrame(b"\x10" * 100, 3000))
    assert len(udp.sent) == 1
    await sender.stop()


async def test_forwarding_sender_stops_like_run_rtp(no_codecs: None) -> None:
    protocol, udp = _stun_protocol()
    dtls = _connected_dtls(protocol)
    sender, outlet, _ = await _forwarding_sender(dtls)
    track = sender.track
    await asyncio.wait_for(sender.stop(), 1)
    assert outlet.send is None and track.readyState == "ended" and sender.track is None
    # A transport that is no longer connected ends the sender (aiortc: ConnectionError).
    protocol, udp = _stun_protocol()
    sender, outlet, _ = await _forwarding_sender(_connected_dtls(protocol))
    track = sender.track
    assert outlet.send is not None
    sender.transport._state = DtlsState.CLOSED
    outlet.send(OutFrame(b"\x10" * 100, 0))
    assert outlet.send is None
    await asyncio.sleep(0)
    assert track.readyState == "ended" and udp.sent == []
    await asyncio.wait_for(sender.stop(), 1)


async def test_forwarding_sender_uses_aiortcs_path_over_a_relay(no_codecs: None) -> None:
    relay = RelayProtocol()
    sender, outlet, _ = await _forwarding_sender(_connected_dtls(relay))
    assert outlet.send is not None
    for i in range(3):
        outlet.send(OutFrame(bytes([i]) * 2000, i * 3000))
    for _ in range(50):
        if len(relay.sent) == 6:
            break
        await asyncio.sleep(0)
    packets = _parse(relay.sent)
    seq0 = packets[0].sequence_number
    assert [p.sequence_number for p in packets] == [(seq0 + i) % 65536 for i in range(6)]
    await sender.stop()


async def test_slot_track_feeds_a_bound_sender_synchronously() -> None:
    fwd = Forwarder("audio", lambda: None)
    slot = SlotTrack("audio")
    slot.attach(fwd)
    fwd.on_frame(b"queued", 48_000)  # before the sender runs: queued for recv()
    got: list[OutFrame] = []
    slot.bind(got.append)
    assert got == [OutFrame(b"queued", 0)]  # the backlog goes out first, in order
    fwd.on_frame(b"now", 48_960)
    assert got[-1] == OutFrame(b"now", 960)
    slot.bind(None)
    fwd.on_frame(b"later", 49_920)
    assert await slot.recv() == OutFrame(b"later", 1920)


def test_ntp_now_matches_aiortc_clock() -> None:
    assert abs(adapter.ntp_now() - clock.current_ntp_time()) < (1 << 32) // 100  # 10 ms


async def test_run_rtp_still_does_what_forwarding_sender_replicates() -> None:
    """ForwardingSender re-does RTCRtpSender._run_rtp and RTCDtlsTransport._send_rtp; if
    aiortc changes what they do (new header extensions, counters, send path), these fail:
    compare with aiortc's code and update ForwardingSender (and this list)."""
    sender = RTCRtpSender("video", MemoryTransport())  # type: ignore[arg-type]
    for name in (
        names.SENDER_MID,
        names.SENDER_EXTENSIONS_MAP,
        names.SENDER_RTX_PAYLOAD_TYPE,
        names.SENDER_RTP_STARTED,
        names.SENDER_RTP_EXITED,
        names.SENDER_PACKET_COUNT,
        names.SENDER_OCTET_COUNT,
        names.SENDER_NTP_TIMESTAMP,
        names.SENDER_RTP_TIMESTAMP,
        names.SENDER_TRACK,
    ):
        assert hasattr(sender, name), name
    run_rtp = inspect.getsource(RTCRtpSender._run_rtp)
    for needle in (
        "sequence_number = random_sequence_number()",
        "timestamp_origin = random32()",
        "uint32_add(timestamp_origin, enc_frame.timestamp)",
        "packet.extensions.abs_send_time = (",
        "clock.current_ntp_time() >> 14",
        "packet.extensions.mid = self.__mid",
        "packet.extensions.audio_level",  # only for AudioFrames aiortc encodes itself
        "self.__rtp_history[packet.sequence_number % RTP_HISTORY_SIZE]",
        "await self.transport._send_rtp(packet_bytes)",
        "self.__octet_count += len(payload)",
        "self.__packet_count += 1",
        "self.__rtp_timestamp = packet.timestamp",
        "self.__track.stop()",
        "self.__rtp_exited.set()",
    ):
        assert needle in run_rtp, needle
    assert run_rtp.count("packet.extensions.") == 3, "a new header extension in _run_rtp"
    assert "self._enabled" in inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "self._run_rtp(parameters.codecs[0])" in inspect.getsource(RTCRtpSender.send)
    rtcp = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "await self._retransmit(seq)" in rtcp
    retransmit = inspect.getsource(RTCRtpSender._retransmit)
    assert "wrap_rtx(" in retransmit and "ssrc=self._rtx_ssrc" in retransmit
    send_rtp = inspect.getsource(RTCDtlsTransport._send_rtp)
    for needle in (
        "self._state != State.CONNECTED",
        "data = self._tx_srtp.protect(data)",
        "await self.transport._send(data)",
        "self.__tx_bytes += len(data)",
        "self.__tx_packets += 1",
    ):
        assert needle in send_rtp, needle
    sendto = inspect.getsource(Connection.sendto)
    assert "self._nominated.get(component)" in sendto
    assert "await active_pair.protocol.send_data(data, active_pair.remote_addr)" in sendto
    assert "self.transport.sendto(data, addr)" in inspect.getsource(StunProtocol.send_data)
    assert "self._send = self._connection.send" in inspect.getsource(RTCIceTransport)


class ClearSrtp:
    """Receive side of the SRTP session stand-in: packets are clear; b"\\x80\\xff" fails."""

    def unprotect(self, data: bytes) -> bytes:
        if data[1] == 0xFF:
            raise pylibsrtp.Error("bad")
        return data

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return data


async def test_receiver_handles_srtp_in_the_datagram_callback(
    no_codecs: None,
) -> None:
    protocol, _ = _stun_protocol()
    dtls = _connected_dtls(protocol)
    dtls._rx_srtp = ClearSrtp()
    setattr(dtls, names.DTLS_HANDSHAKE_DONE, True)
    connection = dtls.transport._connection
    sink = Sink()
    receiver = RTCRtpReceiver("audio", dtls)
    receiver._track = RemoteStreamTrack(kind="audio")
    adapter.tap_receiver(receiver, sink, forwarding=True)
    await receiver.receive(
        RTCRtpReceiveParameters(
            codecs=[OPUS],
            encodings=[RTCRtpDecodingParameters(ssrc=1234, payloadType=96)],
        )
    )
    assert adapter.receive_synchronously(dtls)  # already hooked: idempotent
    packets = [_rtp([b"opus%d" % seq], seq, 960 * seq, pt=96)[0].serialize() for seq in (1, 2)]
    connection.data_received(packets[0], 1)
    assert sink.frames == [(b"opus1", 0)]  # at once, no task switch (rebased to 0)
    assert connection._queue.empty()
    rx = (getattr(dtls, names.DTLS_RX_PACKETS), getattr(dtls, names.DTLS_RX_BYTES))
    assert rx == (1, len(packets[0]))
    connection.data_received(b"\x80\xff" + packets[1][2:], 1)  # fails SRTP: dropped
    assert len(sink.frames) == 1 and connection._queue.empty()
    # DTLS records, and anything behind them, keep going through aiortc's queue (in order).
    connection.data_received(b"\x16dtls", 1)
    connection.data_received(packets[1], 1)
    assert connection._queue.qsize() == 2 and len(sink.frames) == 1
    await receiver.stop()


def test_recv_next_is_what_receive_synchronously_replicates() -> None:
    recv_next = inspect.getsource(RTCDtlsTransport._recv_next)
    for needle in (
        "if not self.__handshake_done:",
        "data = await self.transport._recv()",
        "self.__rx_bytes += len(data)",
        "self.__rx_packets += 1",
        "first_byte > 127 and first_byte < 192 and self._rx_srtp",
        "arrival_time_ms = clock.current_ms()",
        "data = self._rx_srtp.unprotect_rtcp(data)",
        "await self._handle_rtcp_data(data)",
        "data = self._rx_srtp.unprotect(data)",
        "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)",
        "except pylibsrtp.Error",
    ):
        assert needle in recv_next, needle
    assert "self._recv = self._connection.recv" in inspect.getsource(RTCIceTransport)
    assert "self.receiver.data_received(data" in inspect.getsource(StunProtocol)
    assert "self._queue.put_nowait((data, component))" in inspect.getsource(
        Connection.data_received
    )
    assert "await self._queue.get()" in inspect.getsource(Connection.recvfrom)


async def test_drive_finishes_a_coroutine_that_really_suspends() -> None:
    events: list[str] = []

    async def work() -> None:
        events.append("start")
        await asyncio.sleep(0.01)
        events.append("end")

    drive(work())
    assert events == ["start"]
    await asyncio.sleep(0.05)
    assert events == ["start", "end"]


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
