"""Test participants for SFU mode: a WebSocket client speaking docs/PROTOCOL.md plus an
aiortc RTCPeerConnection that publishes pre-encoded VP8 + Opus and counts what
it receives without decoding.

The clips are encoded once with PyAV (and cached on disk), then replayed as
packets at real-time pace, looping, so a test participant costs almost no CPU.
Received frames are intercepted the same way the server does it
(aiortc_adapter.tap_receiver) and counted per sending participant; video
resolution comes from the VP8 keyframe header.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fractions
import hashlib
import json
import math
import random
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
from aioice.ice import get_host_addresses
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.keyframes import is_vp8_keyframe
from roomtone.sfu.packetize import OutFrame, packer_for
from roomtone.sfu.sdp import renumber
from tests import codecfree
from tests.serverproc import ServerProcess, running_server

CODEC_FREE_SERVER = [sys.executable, "-m", "tests.codecfree"]

WIDTH, HEIGHT, FPS = 320, 240, 30
AUDIO_FRAME_SECONDS = 0.02
DIGESTS_KEPT = 20_000
# Chrome's numbering (Opus 111, VP8 96/rtx 97; audio-level 1, abs-send-time 2,
# mid 4) instead of aiortc's (Opus 96, VP8 97/rtx 98; mid 1, level 2, abs 3).
BROWSER_PTS = {96: 111, 97: 96, 98: 97}
BROWSER_EXT_IDS = {1: 4, 2: 1, 3: 2}


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 keyframe (14 bits each, little-endian, bytes 6–9)."""
    if not is_vp8_keyframe(frame):
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


@dataclass(frozen=True)
class Clip:
    kind: str
    frames: tuple[bytes, ...]
    step: int  # RTP clock ticks per frame
    interval: float  # seconds per frame

    @property
    def keyframes(self) -> list[int]:
        return [i for i, f in enumerate(self.frames) if self.kind == "video" and is_vp8_keyframe(f)]


def cached_frames(name: str, make: Any) -> tuple[bytes, ...]:
    """Encoded frames kept in the temp dir across runs: encoding a clip takes seconds."""
    path = Path(tempfile.gettempdir()) / f"roomtone-{name}.bin"
    with contextlib.suppress(OSError, struct.error):
        data = path.read_bytes()
        frames, offset = [], 0
        while offset < len(data):
            (size,) = struct.unpack_from("!I", data, offset)
            frames.append(data[offset + 4 : offset + 4 + size])
            offset += 4 + size
        if frames:
            return tuple(frames)
    frames = tuple(make())
    tmp = path.with_suffix(f".{random.getrandbits(32)}.tmp")
    tmp.write_bytes(b"".join(struct.pack("!I", len(f)) + f for f in frames))
    tmp.replace(path)
    return frames


BARCODE_BITS, BARCODE_BLOCK = 8, 40


def read_barcode(luma: bytes, stride: int) -> int:
    """The frame index drawn by `video_clip(barcode=True)`, read from a decoded Y plane."""
    index = 0
    y = BARCODE_BLOCK // 2
    for bit in range(BARCODE_BITS):
        x = bit * BARCODE_BLOCK + BARCODE_BLOCK // 2
        if luma[y * stride + x] > 128:
            index |= 1 << bit
    return index


@cache
def video_clip(seconds: int = 5, barcode: bool = False) -> Clip:
    """320x240 VP8 at 30 fps with one keyframe at the start: later ones only on PLI.

    `barcode`: the top 40 pixel rows show the frame's index in the clip as 8
    black/white blocks, which survive re-encoding (latency measurements).
    """

    def make() -> list[bytes]:
        import av

        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        codec.bit_rate = 300_000
        codec.time_base = fractions.Fraction(1, FPS)
        codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        codec.gop_size = 100_000
        base = bytes((x * 3) & 0xFF for x in range(3 * WIDTH))
        noise = random.Random(7)
        out = []
        for i in range(seconds * FPS):
            frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            shift = (i * 4) % WIDTH
            rows = [
                bytearray(base[shift + (y % 16) : shift + (y % 16) + WIDTH]) for y in range(HEIGHT)
            ]
            x0 = (i * 5) % (WIDTH - 64)
            for y in range(80, 144):
                rows[y][x0 : x0 + 64] = noise.randbytes(64)
            if barcode:
                for bit in range(BARCODE_BITS):
                    value = 235 if i >> bit & 1 else 16
                    x = bit * BARCODE_BLOCK
                    for y in range(BARCODE_BLOCK):
                        rows[y][x : x + BARCODE_BLOCK] = bytes([value]) * BARCODE_BLOCK
            frame.planes[0].update(b"".join(rows))
            frame.planes[1].update(bytes([100]) * (WIDTH * HEIGHT // 4))
            frame.planes[2].update(bytes([150]) * (WIDTH * HEIGHT // 4))
            frame.pts = i
            out += [bytes(p) for p in codec.encode(frame)]
        out += [bytes(p) for p in codec.encode(None)]
        return out

    digest = hashlib.sha1(f"v1-{seconds}-{barcode}".encode()).hexdigest()[:8]
    return Clip("video", cached_frames(f"sfu-vp8-{digest}", make), 90_000 // FPS, 1 / FPS)


@cache
def audio_clip(seconds: int = 5) -> Clip:
    """48 kHz stereo Opus, 20 ms frames, a 480 Hz tone."""

    def make() -> list[bytes]:
        import av

        codec = av.CodecContext.create("libopus", "w")
        codec.sample_rate, codec.layout, codec.format = 48_000, "stereo", "s16"
        codec.bit_rate = 64_000
        codec.time_base = fractions.Fraction(1, 48_000)
        sample = [int(8000 * math.sin(2 * math.pi * 480 * n / 48_000)) for n in range(960)]
        pcm = b"".join(struct.pack("<hh", s, s) for s in sample)
        out = []
        for i in range(int(seconds / AUDIO_FRAME_SECONDS)):
            frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
            frame.planes[0].update(pcm)
            frame.sample_rate, frame.pts = 48_000, i * 960
            frame.time_base = fractions.Fraction(1, 48_000)
            out += [bytes(p) for p in codec.encode(frame)]
        return out

    digest = hashlib.sha1(f"a1-{seconds}".encode()).hexdigest()[:8]
    return Clip("audio", cached_frames(f"sfu-opus-{digest}", make), 960, AUDIO_FRAME_SECONDS)


class ClipTrack(MediaStreamTrack):
    """Replays a clip as pre-encoded frames in real time; a PLI rewinds to the last keyframe."""

    def __init__(self, clip: Clip) -> None:
        super().__init__()
        self.kind = clip.kind
        self.clip = clip
        self.sent = 0
        self.keyframe_requests = 0
        self.sent_at: dict[int, float] = {}  # clip index → when it was last handed out
        self._index = 0
        self._start: float | None = None
        self._keyframes = clip.keyframes or [0]

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._index = max(k for k in self._keyframes if k <= self._index % len(self.clip.frames))

    async def recv(self) -> OutFrame:  # type: ignore[override]
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.sent * self.clip.interval
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = OutFrame(self.clip.frames[self._index], self.sent * self.clip.step)
        self.sent_at[self._index] = time.monotonic()
        self._index = (self._index + 1) % len(self.clip.frames)
        self.sent += 1
        return frame


@dataclass
class Inbox:
    """What one participant received, per sending participant."""

    frames: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    first_video_keyframe: dict[str, bool] = field(default_factory=dict)
    # per sender, a short digest of each video frame in arrival order (simulcastpeer.frame_digest)
    video_digests: dict[str, list[bytes]] = field(default_factory=dict)


class _MidSink:
    def __init__(self, peer: SfuPeer, mid: str, kind: str) -> None:
        self.peer, self.mid, self.kind = peer, mid, kind

    def on_frame(self, data: bytes, timestamp: int) -> None:
        owner = self.peer.mid_owner.get(self.mid)
        if owner is None:
            return
        inbox = self.peer.inbox
        inbox.frames[owner, self.kind] += 1
        if self.kind == "video":
            inbox.first_video_keyframe.setdefault(f"{owner}/{self.mid}", is_vp8_keyframe(data))
            digests = inbox.video_digests.setdefault(owner, [])
            if len(digests) < DIGESTS_KEPT:
                digests.append(hashlib.sha1(data).digest()[:8])
            size = vp8_dimensions(data)
            if size:
                inbox.sizes[owner] = size


class SfuPeer:
    """One participant: join, publish the clips, answer server offers, count media."""

    def __init__(
        self,
        ws_url: str,
        name: str,
        *,
        browser_numbering: bool = False,
        connect: bool = True,
        clips: tuple[Clip, Clip] | None = None,
        decode_video_of: set[str] | None = None,
        on_decoded: Any = None,
    ) -> None:
        self.ws_url = ws_url
        self.name = name
        self.browser_numbering = browser_numbering
        # connect=False: only look at the server's SDP, never start ICE (e.g. the
        # server announces an address that is not this machine's).
        self.connect = connect
        self.clips = clips
        # Video of these participants is decoded (aiortc's normal path) and each
        # frame passed to on_decoded(peer_id, frame); everything else is only counted.
        self.decode_video_of = decode_video_of or set()
        self.on_decoded = on_decoded
        self._decoders: list[asyncio.Task[None]] = []
        # hold_offers: keep server offers in `held` instead of answering (glare tests).
        self.hold_offers = False
        self.held: list[dict[str, Any]] = []
        self.id = ""
        self.welcome: dict[str, Any] = {}
        self.offers: list[dict[str, Any]] = []  # every server offer's data (with `tracks`)
        self.answers: list[str] = []  # server answers' SDP
        self.errors: list[str] = []  # `error` messages from the server
        self.failures: list[str] = []  # server descriptions this client could not apply
        self.messages: list[dict[str, Any]] = []
        self.mid_owner: dict[str, str] = {}
        self.inbox = Inbox()
        self.tracks: list[ClipTrack] = []
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tapped: set[str] = set()
        self._changed = asyncio.Condition()

    async def join(self, *, publish: bool = True, offer: bool = True) -> SfuPeer:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.ws_url)
        await self._ws.send_json({"type": "join", "name": self.name})
        self.welcome = await self._ws.receive_json(timeout=10)
        assert self.welcome.get("type") == "welcome", self.welcome
        assert self.welcome["mediaTransport"] == "sfu", self.welcome
        self.id = self.welcome["id"]
        self._reader = asyncio.get_running_loop().create_task(self._read())
        if publish:
            for clip in self.clips or (audio_clip(), video_clip()):
                track = ClipTrack(clip)
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                caps = RTCRtpSender.getCapabilities(clip.kind).codecs
                keep = ("audio/opus",) if clip.kind == "audio" else ("video/vp8", "video/rtx")
                transceiver.setCodecPreferences([c for c in caps if c.mimeType.lower() in keep])
                adapter.install_packer(transceiver.sender, packer_for(clip.kind))
                adapter.on_keyframe_request(transceiver.sender, track.request_keyframe)
                self.tracks.append(track)
        if offer:
            await self.send_offer()
        return self

    async def send_offer(self) -> str:
        offer = await self.pc.createOffer()
        sdp = offer.sdp
        if self.browser_numbering:
            sdp = renumber(sdp, BROWSER_PTS, BROWSER_EXT_IDS)
        await self.pc.setLocalDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.signal({"description": {"type": "offer", "sdp": self.pc.localDescription.sdp}})
        return self.pc.localDescription.sdp

    async def signal(self, data: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_json({"type": "signal", "to": "sfu", "data": data})

    async def send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_json(message)

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(msg.data)
            if message.get("type") == "entropy":
                continue
            self.messages.append(message)
            self.on_message(message)
            if message.get("type") == "error":
                self.errors.append(message["message"])
            elif message.get("type") == "signal" and message.get("from") == "sfu":
                try:
                    await self._on_signal(message["data"])
                except Exception as exc:  # reported, not fatal: tests assert on it
                    self.failures.append(repr(exc))
            async with self._changed:
                self._changed.notify_all()

    def on_message(self, message: dict[str, Any]) -> None:
        """Every message but entropy, as it arrives (for subclasses)."""

    async def _on_signal(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if not description:
            return
        if description["type"] == "answer":
            self.answers.append(description["sdp"])
            if self.connect:
                await self.pc.setRemoteDescription(RTCSessionDescription(**description))
            return
        self.offers.append(data)
        if not self.connect:
            return
        if self.hold_offers:
            self.held.append(data)
            return
        await self.answer(data)

    async def answer(self, data: dict[str, Any]) -> None:
        """Apply a server offer and answer it (what a browser client does)."""
        description = data["description"]
        for track in data.get("tracks", []):
            self.mid_owner[track["mid"]] = track["peerId"]
        await self.pc.setRemoteDescription(RTCSessionDescription(**description))
        for transceiver in self.pc.getTransceivers():
            mid = transceiver.mid
            if mid in self.mid_owner and mid not in self._tapped:
                self._tapped.add(mid)
                owner = self.mid_owner[mid]
                if transceiver.kind == "video" and owner in self.decode_video_of:
                    task = asyncio.get_running_loop().create_task(self._decode(transceiver, owner))
                    self._decoders.append(task)
                    continue
                sink = _MidSink(self, mid, transceiver.kind)
                adapter.tap_receiver(transceiver.receiver, sink)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.signal({"description": {"type": "answer", "sdp": self.pc.localDescription.sdp}})

    async def _decode(self, transceiver: Any, owner: str) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await transceiver.receiver.track.recv()
                self.inbox.frames[owner, "video"] += 1
                if self.on_decoded is not None:
                    self.on_decoded(owner, frame)

    async def wait_for(self, predicate: Any, timeout: float = 15.0) -> None:
        """Wait until `predicate()` holds (re-checked on every message and every 0.1 s)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: condition not met; errors={self.errors}")
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.1)

    def received(self, peer_id: str, kind: str) -> int:
        return self.inbox.frames[peer_id, kind]

    def current_tracks(self) -> list[dict[str, str]]:
        return self.offers[-1].get("tracks", []) if self.offers else []

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        for task in self._decoders:
            task.cancel()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.pc.close()
        if self._session is not None:
            await self._session.close()


@contextlib.contextmanager
def codec_free_sfu_server() -> Iterator[ServerProcess]:
    """An sfu-mode server whose codec factories raise; afterwards, proof none was used."""
    with running_server({"MEDIA_TRANSPORT": "sfu"}, command=CODEC_FREE_SERVER) as server:
        yield server
    assert codecfree.DISABLED in server.output()
    assert adapter.FORBIDDEN_MARKER not in server.output()
    assert "Traceback" not in server.output(), server.output()[-3000:]


def udp_port_free(port: int) -> bool:
    """Whether `port` can be bound on every host address aioice would gather right now."""
    for address in get_host_addresses(use_ipv4=True, use_ipv6=True):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True
