"""A test publisher that sends simulcast as a browser does, which aiortc cannot.

SimulcastPeer is an SfuPeer whose camera is three pre-encoded VP8 layers,
`q` (80x60), `h` (160x120) and `f` (320x240), each on its own SSRC with the
rtp-stream-id header extension, and their retransmissions as RTX packets
with repaired-rtp-stream-id: the RTP a Chrome simulcast publisher sends. Its
offer carries `a=rid:<rid> send` and `a=simulcast:send q;h;f` (and no
`a=ssrc` lines for video, as Chrome's). aiortc still does ICE, DTLS and
SRTP and sends the audio; the video packets are built here and handed to
the DTLS transport. A PLI for a layer's SSRC makes that layer start again
at its keyframe; NACKs are answered from a history; each layer sends sender
reports, so the server can map its timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import hashlib
import random
import struct
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiortc import RTCRtpSender

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.keyframes import is_vp8_keyframe
from roomtone.sfu.packetize import OpusPacker, OutFrame, Vp8Packer
from roomtone.sfu.rtp import rtcp
from roomtone.sfu.rtp.extensions import REPAIRED_RID, RID
from roomtone.sfu.rtp.header import FIXED, one_byte_block
from roomtone.sfu.sdp import split_sections
from tests.sfupeer import FPS, Clip, ClipTrack, SfuPeer, audio_clip, cached_frames

LAYERS = (("q", 80, 60, 40_000), ("h", 160, 120, 120_000), ("f", 320, 240, 600_000))
RID_ID, REPAIRED_RID_ID = 10, 11
_NTP_UNIX = 2208988800


@cache
def layer_clip(width: int, height: int, bitrate: int, seconds: int = 5) -> Clip:
    """VP8 at `width`x`height`, 30 fps, one keyframe at the start (the others come on PLI)."""

    def make() -> list[bytes]:
        import av

        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
        codec.bit_rate = bitrate
        codec.time_base = fractions.Fraction(1, FPS)
        codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        codec.gop_size = 100_000
        noise = random.Random(width)
        square = max(8, width // 5)
        out = []
        for i in range(seconds * FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            shift = (i * 2) % width
            rows = [
                bytearray(((x + shift + y) * 3) & 0xFF for x in range(width)) for y in range(height)
            ]
            x0 = (i * 3) % (width - square)
            for y in range(height // 3, height // 3 + square):
                rows[y % height][x0 : x0 + square] = noise.randbytes(square)
            luma, cb, cr = frame.planes  # rows may be padded: fill line_size bytes each
            pad = b"\x00" * (luma.line_size - width)
            luma.update(b"".join(bytes(row) + pad for row in rows))
            cb.update(bytes([90 + width % 50]) * (cb.line_size * cb.height))
            cr.update(bytes([150]) * (cr.line_size * cr.height))
            frame.pts = i
            out += [bytes(p) for p in codec.encode(frame)]
        out += [bytes(p) for p in codec.encode(None)]
        return out

    digest = hashlib.sha1(f"layer-v1-{width}x{height}-{bitrate}-{seconds}".encode()).hexdigest()[:8]
    return Clip("video", cached_frames(f"sfu-vp8-{digest}", make), 90_000 // FPS, 1 / FPS)


def frame_digest(frame: bytes) -> bytes:
    return hashlib.sha1(frame).digest()[:8]


@dataclass
class Layer:
    """One simulcast encoding being sent."""

    rid: str
    clip: Clip
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    rtx_ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(15))
    rtx_seq: int = field(default_factory=lambda: random.getrandbits(15))
    ts_base: int = field(default_factory=lambda: random.getrandbits(32))
    packer: Vp8Packer = field(default_factory=Vp8Packer)
    index: int = 0
    active: bool = True  # the server's `layers` message may switch it off
    frames_sent: int = 0
    keyframe_requests: int = 0
    nacked: set[int] = field(default_factory=set)  # sequence numbers retransmitted
    history: dict[int, bytes] = field(default_factory=dict)

    def digests(self) -> dict[bytes, tuple[int, bool]]:
        """frame digest → (index in the clip, keyframe)."""
        return {frame_digest(f): (i, is_vp8_keyframe(f)) for i, f in enumerate(self.clip.frames)}


def simulcast_offer(sdp: str, rids: list[str], mid: str | None = None) -> str:
    """aiortc's offer (or answer) as Chrome writes a simulcast one: rid extensions, a=rid,
    a=simulcast, and no a=ssrc lines in the video section (the one of `mid`, if given:
    the others receive)."""
    head, sections = split_sections(sdp)
    out = []
    for section in sections:
        ours = mid is None or f"a=mid:{mid}\r\n" in section or f"a=mid:{mid}\n" in section
        if section.startswith("m=video") and ours:
            lines = [
                line
                for line in section.splitlines(keepends=True)
                if not line.startswith(("a=ssrc:", "a=ssrc-group:"))
            ]
            extra = [f"a=extmap:{RID_ID} {RID}", f"a=extmap:{REPAIRED_RID_ID} {REPAIRED_RID}"]
            extra += [f"a=rid:{rid} send" for rid in rids]
            extra.append("a=simulcast:send " + ";".join(rids))
            section = "".join(lines) + "".join(line + "\r\n" for line in extra)
        out.append(section)
    return head + "".join(out)


class SimulcastPeer(SfuPeer):
    """See the module docstring. `layers` limits which rids are offered (e.g. ["q", "f"])."""

    def __init__(
        self,
        *args: Any,
        rids: tuple[str, ...] = ("q", "h", "f"),
        honor_layers: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.layers = [Layer(rid, layer_clip(w, h, b)) for rid, w, h, b in LAYERS if rid in rids]
        self.honor_layers = honor_layers  # stop sending rids the server says nobody receives
        self.loss = 0.0  # share of first transmissions of video packets dropped (seeded)
        self.lost: set[tuple[str, int]] = set()  # (rid, seq) of those
        self._rng = random.Random(4588)
        self.layers_messages: list[dict[str, Any]] = []
        self._pump: asyncio.Task[None] | None = None
        self._video_mid: str | None = None
        self._video: Any = None  # our own sendonly video transceiver
        self.sent_sdp = ""  # the last description sent, as sent
        self._dtls: Any = None

    async def join(self, *, publish: bool = True, offer: bool = True) -> SimulcastPeer:
        assert publish, "a SimulcastPeer publishes"
        await super().join(publish=False, offer=False)
        audio = ClipTrack(audio_clip())
        transceiver = self.pc.addTransceiver(audio, direction="sendonly")
        caps = RTCRtpSender.getCapabilities("audio").codecs
        transceiver.setCodecPreferences([c for c in caps if c.mimeType.lower() == "audio/opus"])
        adapter.install_packer(transceiver.sender, OpusPacker())
        self.tracks.append(audio)
        video = self._video = self.pc.addTransceiver("video", direction="sendonly")
        caps = RTCRtpSender.getCapabilities("video").codecs
        video.setCodecPreferences(
            [c for c in caps if c.mimeType.lower() in ("video/vp8", "video/rtx")]
        )
        if offer:
            await self.send_offer()
        self._pump = asyncio.get_running_loop().create_task(self._send_layers())
        return self

    async def send_offer(self) -> str:
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        await self.signal({"description": {"type": "offer", "sdp": self.pc.localDescription.sdp}})
        return self.sent_sdp

    async def signal(self, data: dict[str, Any]) -> None:
        """Every description we send has our video m-line as Chrome's simulcast one: its
        answers to the server's offers too (aiortc's own would drop the rids)."""
        description = data.get("description")
        if description is not None:
            mid = self._video.mid if self._video is not None else None
            sdp = simulcast_offer(description["sdp"], [layer.rid for layer in self.layers], mid)
            self.sent_sdp = sdp
            data = {**data, "description": {**description, "sdp": sdp}}
        await super().signal(data)

    @staticmethod
    def prepare_clips() -> None:
        """Encode (or load) every layer's clip now, e.g. before codecs are forbidden."""
        for _, width, height, bitrate in LAYERS:
            layer_clip(width, height, bitrate)

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "layers":
            self.layers_messages.append(message)
            if self.honor_layers:
                for layer in self.layers:
                    layer.active = layer.rid in message["active"]

    # --- sending --------------------------------------------------------------------------

    async def _connected(self) -> Any:
        while True:
            # Our own m-line: the server's (receiving) ones may come first when others publish.
            video = self._video
            if video is not None and video.mid is not None:
                dtls = video.sender.transport
                if dtls.state == "connected":
                    self._video_mid = video.mid
                    return dtls
            await asyncio.sleep(0.05)

    async def _send_layers(self) -> None:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            dtls = self._dtls = await self._connected()
            received = dtls._handle_rtcp_data

            async def handle_rtcp(data: bytes) -> None:
                self._on_rtcp(data)
                await received(data)

            dtls._handle_rtcp_data = handle_rtcp
            start = time.monotonic()
            reported = start
            frame = 0
            while True:
                due = start + frame / FPS
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                for layer in self.layers:
                    if layer.active:
                        for packet in self._frame_packets(layer, frame):
                            if self.loss and self._rng.random() < self.loss:
                                self.lost.add((layer.rid, (packet[2] << 8) | packet[3]))
                                continue
                            await dtls._send_rtp(packet)
                if time.monotonic() - reported >= 1.0:
                    reported = time.monotonic()
                    await dtls._send_rtp(self._sender_reports(start))
                frame += 1

    def _extensions(self, rid_id: int, rid: str) -> bytes:
        assert self._video_mid is not None
        abs24 = int(time.time() * 262144) & 0xFFFFFF
        return one_byte_block(
            [(1, self._video_mid.encode()), (3, abs24.to_bytes(3, "big")), (rid_id, rid.encode())]
        )

    def _frame_packets(self, layer: Layer, frame: int) -> list[bytes]:
        data = layer.clip.frames[layer.index]
        layer.index = (layer.index + 1) % len(layer.clip.frames)
        layer.frames_sent += 1
        payloads, _ = layer.packer.pack(OutFrame(data, 0))
        timestamp = (layer.ts_base + frame * layer.clip.step) & 0xFFFFFFFF
        extensions = self._extensions(RID_ID, layer.rid)
        packets = []
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            header = FIXED.pack(0x90, marker | 97, layer.seq, timestamp, layer.ssrc)
            packet = header + extensions + payload
            layer.history[layer.seq] = packet
            layer.history.pop((layer.seq - 512) & 0xFFFF, None)
            layer.seq = (layer.seq + 1) & 0xFFFF
            packets.append(packet)
        return packets

    def _sender_reports(self, start: float) -> bytes:
        now = time.monotonic()
        ntp = int((time.time() + _NTP_UNIX) * 4294967296.0)
        return b"".join(
            rtcp.sender_report(
                layer.ssrc,
                ntp,
                (layer.ts_base + int((now - start) * 90_000)) & 0xFFFFFFFF,
                layer.frames_sent,
                0,
            )
            for layer in self.layers
        )

    def _on_rtcp(self, data: bytes) -> None:
        by_ssrc = {layer.ssrc: layer for layer in self.layers}
        for item in rtcp.parse(data):
            if isinstance(item, rtcp.Pli) and item.media in by_ssrc:
                layer = by_ssrc[item.media]
                layer.keyframe_requests += 1
                layer.index = 0  # the clip's only keyframe
            elif isinstance(item, rtcp.Fir):
                for ssrc in item.media:
                    if ssrc in by_ssrc:
                        by_ssrc[ssrc].keyframe_requests += 1
                        by_ssrc[ssrc].index = 0
            elif isinstance(item, rtcp.Nack) and item.media in by_ssrc:
                self._retransmit(by_ssrc[item.media], item.lost)

    def _retransmit(self, layer: Layer, lost: list[int]) -> None:
        dtls = self._dtls
        for seq in lost:
            original = layer.history.get(seq)
            if original is None or dtls is None:
                continue
            layer.nacked.add(seq)
            second, timestamp = original[1], struct.unpack_from("!I", original, 4)[0]
            extensions = self._extensions(REPAIRED_RID_ID, layer.rid)
            payload_at = 12 + 4 + 4 * struct.unpack_from("!H", original, 14)[0]
            header = FIXED.pack(
                0x90, (second & 0x80) | 98, layer.rtx_seq, timestamp, layer.rtx_ssrc
            )
            layer.rtx_seq = (layer.rtx_seq + 1) & 0xFFFF
            packet = header + extensions + struct.pack("!H", seq) + original[payload_at:]
            task = asyncio.get_running_loop().create_task(dtls._send_rtp(packet))
            task.add_done_callback(lambda t: t.exception())

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await super().close()
