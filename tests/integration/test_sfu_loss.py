"""SFU loss recovery: aiortc's NACK/retransmission works on both legs of a forwarded call.

A real server subprocess (MEDIA_TRANSPORT=sfu) and two aiortc participants from
tests/sfupeer.py: a publisher of pre-encoded VP8 + Opus and a receive-only
viewer. Once video flows, one leg starts losing ~8% of the VP8 stream's RTP
packets at random (seeded), first transmissions only:

- publisher → server: the publisher's DTLS transport drops outgoing packets
  before they are encrypted and sent; the server's RTCRtpReceiver must NACK
  them (seen as RTCP NACKs arriving at the publisher) and the publisher's
  RTCRtpSender retransmit them from its history;
- server → viewer: the viewer's DTLS transport drops incoming packets after
  decryption, before aiortc's receiver sees them; the viewer's receiver NACKs
  them and the server's forwarding RTCRtpSender must retransmit from its own
  history.

The viewer counts complete VP8 frames with aiortc's own jitter buffer, which
never releases a frame with a missing packet (it waits for it, and only gives
up once 512 packets have piled up behind the gap, several seconds of this
clip): the viewer getting ≥ 80% of the frames sent, together with NACKs seen
and the lost packets seen again as retransmissions, proves recovery. The
control tests lose the retransmissions too and show that the frame count then
collapses, i.e. that the frame count cannot pass without retransmission.

Assertions are on counts only, generous; no timing.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpPacket, RtcpRtpfbPacket, RtpPacket, is_rtcp

from tests.serverproc import ServerProcess
from tests.sfupeer import SfuPeer, codec_free_sfu_server

pytestmark = pytest.mark.slow

LOSS_RATE = 0.08  # of first transmissions of VP8 RTP packets (~1.25 packets per frame)
SEED = 20240604
WINDOW = 3.0  # seconds of lossy media that are measured
SETTLE = 0.5  # seconds after the loss stops, for the last NACKs and retransmissions
MIN_FRAME_SHARE = 0.8  # of the frames sent in the window that must arrive complete


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with codec_free_sfu_server() as server:
        yield server


@dataclass
class LossyVideo:
    """Loses first transmissions of one VP8 stream at random; retransmissions pass.

    A first transmission carries the VP8 payload type and a sequence number not
    seen before. aiortc 1.16 retransmits (RTCRtpSender._retransmit) either
    RTX-wrapped (the rtx payload type; the original sequence number in the
    first two payload bytes, RFC 4588) or, without RTX, as the same packet
    again; both count as retransmissions here.
    """

    vp8_types: set[int]
    rtx_types: set[int]
    rate: float = LOSS_RATE
    lose_retransmissions: bool = False  # control: retransmissions are lost too
    active: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    ssrcs: set[int] = field(default_factory=set)  # media SSRC(s) of the VP8 stream
    seen: set[int] = field(default_factory=set)  # sequence numbers of first transmissions
    lost: set[int] = field(default_factory=set)  # …of those dropped
    recovered: set[int] = field(default_factory=set)  # lost ones seen again, retransmitted
    retransmissions: int = 0
    rtx_wrapped: int = 0  # …of which RTX packets (RFC 4588) rather than plain copies
    nacks: int = 0  # RTCP NACK packets about the VP8 stream
    nacked: set[int] = field(default_factory=set)  # sequence numbers they asked for

    @classmethod
    def of(cls, transceiver: RTCRtpTransceiver, **kwargs: Any) -> LossyVideo:
        # The negotiated codecs (payload types as on the wire) of this m-line.
        codecs = transceiver._codecs
        return cls(
            vp8_types={c.payloadType for c in codecs if c.mimeType.lower() == "video/vp8"},
            rtx_types={c.payloadType for c in codecs if c.mimeType.lower() == "video/rtx"},
            **kwargs,
        )

    def deliver(self, data: bytes) -> bool:
        """Whether this (unencrypted) RTP packet goes through."""
        packet = RtpPacket.parse(data)
        if packet.payload_type in self.rtx_types and len(packet.payload) >= 2:
            (original,) = struct.unpack_from("!H", packet.payload)
            self.rtx_wrapped += 1
            return self._retransmission(original)
        if packet.payload_type not in self.vp8_types:
            return True
        self.ssrcs.add(packet.ssrc)
        sequence = packet.sequence_number
        if sequence in self.seen:
            return self._retransmission(sequence)
        self.seen.add(sequence)
        if self.active and self.rng.random() < self.rate:
            self.lost.add(sequence)
            return False
        return True

    def _retransmission(self, sequence: int) -> bool:
        self.retransmissions += 1
        if sequence in self.lost:
            self.recovered.add(sequence)
        return not (self.lose_retransmissions and self.active)

    def count_nacks(self, data: bytes) -> None:
        """Count the NACKs about this stream in an (unencrypted) RTCP datagram."""
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            return
        for packet in packets:
            if (
                isinstance(packet, RtcpRtpfbPacket)
                and packet.fmt == RTCP_RTPFB_NACK
                and packet.media_ssrc in self.ssrcs
            ):
                self.nacks += 1
                self.nacked.update(packet.lost)


def _shadow(transport: RTCDtlsTransport, name: str, make: Callable[[Any], Any]) -> None:
    """Replace a method on this one transport instance (aiortc calls them as self.<name>)."""
    setattr(transport, name, make(getattr(transport, name)))


def lose_outgoing(link: LossyVideo, transport: RTCDtlsTransport) -> None:
    """Publisher side: drop RTP on its way out, count RTCP NACKs coming in.

    aiortc 1.16: RTCRtpSender sends every packet, first or retransmitted, with
    `transport._send_rtp(plain bytes)`; incoming SRTCP is decrypted and handed
    to `transport._handle_rtcp_data(plain bytes)`.
    """

    def send(original: Callable[[bytes], Awaitable[None]]) -> Any:
        async def _send_rtp(data: bytes) -> None:
            if is_rtcp(data) or link.deliver(data):
                await original(data)

        return _send_rtp

    def receive_rtcp(original: Callable[[bytes], Awaitable[None]]) -> Any:
        async def _handle_rtcp_data(data: bytes) -> None:
            link.count_nacks(data)
            await original(data)

        return _handle_rtcp_data

    _shadow(transport, "_send_rtp", send)
    _shadow(transport, "_handle_rtcp_data", receive_rtcp)


def lose_incoming(link: LossyVideo, transport: RTCDtlsTransport) -> None:
    """Viewer side: drop RTP as it arrives (decrypted, not yet routed), count NACKs sent.

    aiortc 1.16: `_recv_next` decrypts SRTP and calls
    `self._handle_rtp_data(data, arrival_time_ms=...)`; RTCRtpReceiver sends its
    NACKs with `transport._send_rtp(plain RTCP bytes)`.
    """

    def receive(original: Callable[..., Awaitable[None]]) -> Any:
        async def _handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            if link.deliver(data):
                await original(data, arrival_time_ms=arrival_time_ms)

        return _handle_rtp_data

    def send(original: Callable[[bytes], Awaitable[None]]) -> Any:
        async def _send_rtp(data: bytes) -> None:
            if is_rtcp(data):
                link.count_nacks(data)
            await original(data)

        return _send_rtp

    _shadow(transport, "_handle_rtp_data", receive)
    _shadow(transport, "_send_rtp", send)


@dataclass
class Outcome:
    link: LossyVideo
    sent: int  # video frames the publisher sent during the lossy window
    received: int  # complete video frames the viewer got from it in that window

    def __str__(self) -> str:
        link = self.link
        return (
            f"frames {self.received}/{self.sent}, first transmissions {len(link.seen)}, "
            f"lost {len(link.lost)}, NACKs {link.nacks} for {len(link.nacked)} packets "
            f"({len(link.lost & link.nacked)} of the lost), retransmissions "
            f"{link.retransmissions} ({link.rtx_wrapped} as RTX; {len(link.recovered)} of the lost)"
        )


async def lossy_call(server: ServerProcess, leg: str, *, lose_retransmissions: bool) -> Outcome:
    """A publisher and a viewer; `leg` ("publisher" or "viewer") loses video for WINDOW s."""
    publisher = await SfuPeer(server.ws_url, f"{leg} loss publisher").join()
    viewer = await SfuPeer(server.ws_url, f"{leg} loss viewer").join(publish=False)
    try:
        await viewer.wait_for(lambda: viewer.received(publisher.id, "video") >= 15)
        if leg == "publisher":
            transceiver = next(t for t in publisher.pc.getTransceivers() if t.kind == "video")
            link = LossyVideo.of(transceiver, lose_retransmissions=lose_retransmissions)
            lose_outgoing(link, transceiver.sender.transport)
        else:
            transceiver = next(
                t
                for t in viewer.pc.getTransceivers()
                if t.kind == "video" and viewer.mid_owner.get(t.mid) == publisher.id
            )
            link = LossyVideo.of(transceiver, lose_retransmissions=lose_retransmissions)
            lose_incoming(link, transceiver.receiver.transport)
        assert link.vp8_types, transceiver._codecs
        track = next(t for t in publisher.tracks if t.kind == "video")
        sent, received = track.sent, viewer.received(publisher.id, "video")
        await asyncio.sleep(WINDOW)
        outcome = Outcome(
            link, track.sent - sent, viewer.received(publisher.id, "video") - received
        )
        link.active = False
        await asyncio.sleep(SETTLE)
        assert publisher.errors == [] and viewer.errors == []
        assert publisher.failures == [] and viewer.failures == []
        print(f"{leg} leg, lose_retransmissions={lose_retransmissions}: {outcome}")
        return outcome
    finally:
        await asyncio.gather(publisher.close(), viewer.close(), return_exceptions=True)


def assert_recovered(outcome: Outcome) -> None:
    link = outcome.link
    assert len(link.ssrcs) == 1, outcome  # one VP8 stream: sequence numbers are unambiguous
    assert len(link.lost) >= 3, outcome  # the loss really happened
    assert link.nacks > 0, outcome  # the receiving end asked for the lost packets…
    assert len(link.lost & link.nacked) >= 0.8 * len(link.lost), outcome
    assert len(link.recovered) >= 0.8 * len(link.lost), outcome  # …and got them again
    assert outcome.sent > 0, outcome
    assert outcome.received >= MIN_FRAME_SHARE * outcome.sent, outcome


async def test_publisher_to_server_loss_is_nacked_and_retransmitted(server: ServerProcess) -> None:
    """The server's receiver NACKs; the publisher's aiortc sender retransmits."""
    assert_recovered(await lossy_call(server, "publisher", lose_retransmissions=False))


async def test_server_to_viewer_loss_is_nacked_and_retransmitted(server: ServerProcess) -> None:
    """The viewer's receiver NACKs; the server's forwarding sender retransmits from its history."""
    assert_recovered(await lossy_call(server, "viewer", lose_retransmissions=False))


@pytest.mark.parametrize("leg", ["publisher", "viewer"])
async def test_control_without_retransmissions_frames_are_lost(
    server: ServerProcess, leg: str
) -> None:
    """Same loss, retransmissions lost as well: the frame-count check above would fail."""
    outcome = await lossy_call(server, leg, lose_retransmissions=True)
    assert len(outcome.link.lost) >= 3 and outcome.link.nacks > 0, outcome
    assert outcome.received < MIN_FRAME_SHARE * outcome.sent, outcome
