"""The aiortc/aioice internals roomtone/sfu/aiortc_adapter.py relies on.

These fail loudly when an aiortc or aioice upgrade moves them: every test
drives the real aiortc classes (receiver, sender, ICE connection) through the
adapter, with an in-memory DTLS transport and no network.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import socket
from collections.abc import Iterator

import aioice
import aiortc
import av
import pytest
from aioice import Connection
from aioice.ice import get_host_addresses
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpDecodingParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPacket, RtcpPsfbPacket, RtpPacket

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.packetize import OpusPacker, OutFrame, Vp8Packer
from roomtone.sfu.ports import PortRange

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
    assert aioice.__version__.startswith("0.13"), aioice.__version__


async def test_private_attributes_exist() -> None:
    receiver = RTCRtpReceiver("audio", MemoryTransport())  # type: ignore[arg-type]
    assert isinstance(getattr(receiver, adapter._RECEIVER_DECODER_QUEUE), queue.Queue)
    jitter = getattr(receiver, adapter._RECEIVER_JITTER_BUFFER)
    assert (jitter.capacity, jitter._is_video, jitter._prefetch) == (16, False, 4)
    for name in ("_packets", "_origin", "_capacity", "remove"):
        assert hasattr(jitter, name), name
    sender = RTCRtpSender("video", MemoryTransport())  # type: ignore[arg-type]
    assert getattr(sender, adapter._SENDER_ENCODER) is None
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
    adapter.tap_receiver(receiver, sink, forwarding=forwarding)
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
    thread = receiver._RTCRtpReceiver__decoder_thread
    thread.join(2)
    assert not thread.is_alive(), "the decoder thread must exit before decoding anything"
    for packets in _vp8_packets(FRAMES):
        for packet in packets:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    # aiortc's own jitter buffer releases a frame when the next one starts.
    assert sink.frames == [(frame, i * 3000) for i, frame in enumerate(FRAMES[:-1])]
    await receiver.stop()
    assert sink.ended


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
        if all(_is_free(address, port) for port in ports for address in _addresses()):
            return PortRange(base, base + size - 1)
    raise RuntimeError("no free port range")


def _addresses() -> list[str]:
    return get_host_addresses(use_ipv4=True, use_ipv6=True)


def _is_free(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


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
    for address in _addresses():
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
