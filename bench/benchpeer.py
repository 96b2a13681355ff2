"""The benchmark's participants: the same aiortc media against Roomtone's SFU or Janus VideoRoom.

Each participant publishes pre-encoded clips (tests/sfupeer.ClipTrack: no
encoder; PLIs rewind to the clip's keyframe) and receives every other
participant without decoding (aiortc_adapter.tap_receiver hands reassembled
frames to a counter). Only the signaling differs:

- Roomtone: one peer connection, the protocol of docs/PROTOCOL.md (offer
  after `welcome`, answer the server's renegotiation offers, whose `tracks`
  say which participant each mid carries).
- Janus: a VideoRoom publisher handle with a sendonly connection, then one
  subscriber handle whose multistream offer carries every other feed
  (answered with the `max-bundle` policy, which Janus's offers need). A feed
  can be subscribed only after its publisher's `webrtcup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.janusapi import JanusHandle, JanusSession  # noqa: E402
from bench.janusserver import ROOM  # noqa: E402
from roomtone.sfu import aiortc_adapter as adapter  # noqa: E402
from roomtone.sfu.packetize import RTP_PAYLOAD_MAX, packer_for  # noqa: E402
from tests.sfupeer import Clip, ClipTrack  # noqa: E402

VIDEOROOM = "janus.plugin.videoroom"
# Publishers cut VP8 frames into RTP payloads of RTP_PAYLOAD_MAX bytes, a 4-byte payload
# descriptor included (roomtone/sfu/packetize.py); both servers forward that cut.
VP8_CHUNK = RTP_PAYLOAD_MAX - 4


class Received:
    """Frames, payload bytes and RTP packets received, per (sending participant, kind).

    Packets are counted from the frames (one per Opus frame, one per VP8 chunk):
    media packets delivered, the same for both servers, without retransmissions.
    aiortc's inbound-rtp stats cannot be used: they keep one entry per receiver,
    so an RTX stream's figures replace the media stream's.
    """

    def __init__(self) -> None:
        self.frames: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.bytes: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.packets = 0


class _Sink:
    """A receiver's frame sink: counts for whoever the mid currently carries."""

    def __init__(self, received: Received, owners: dict[str, str], mid: str, kind: str) -> None:
        self.received, self.owners, self.mid, self.kind = received, owners, mid, kind

    def on_frame(self, data: bytes, timestamp: int) -> None:
        owner = self.owners.get(self.mid)
        if owner is not None:
            key = (owner, self.kind)
            self.received.frames[key] += 1
            self.received.bytes[key] += len(data)
            self.received.packets += 1 if self.kind == "audio" else -(-len(data) // VP8_CHUNK)


def publish_clips(pc: RTCPeerConnection, clips: tuple[Clip, ...]) -> list[ClipTrack]:
    """Add one sendonly transceiver per clip, packing pre-encoded frames (Opus; VP8 + RTX)."""
    tracks = []
    for clip in clips:
        track = ClipTrack(clip)
        transceiver = pc.addTransceiver(track, direction="sendonly")
        keep = ("audio/opus",) if clip.kind == "audio" else ("video/vp8", "video/rtx")
        codecs = RTCRtpSender.getCapabilities(clip.kind).codecs
        transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in keep])
        adapter.install_packer(transceiver.sender, packer_for(clip.kind))
        adapter.on_keyframe_request(transceiver.sender, track.request_keyframe)
        tracks.append(track)
    return tracks


def tap_new_receivers(pc: RTCPeerConnection, tapped: set[str], sink: Any) -> None:
    """Count (not decode) what every not yet tapped receiving transceiver delivers."""
    for transceiver in pc.getTransceivers():
        mid = transceiver.mid
        if mid is None or mid in tapped or transceiver.direction == "sendonly":
            continue
        tapped.add(mid)
        adapter.tap_receiver(transceiver.receiver, sink(mid, transceiver.kind))


class BenchPeer:
    """What both kinds of participant share: clips, counters, connections, traffic figures."""

    def __init__(self, name: str, clips: tuple[Clip, ...]) -> None:
        self.name = name
        self.id = name
        self.clips = clips
        self.received = Received()
        self.owners: dict[str, str] = {}  # receiving mid → sending participant (a name or id)
        self.pcs: list[RTCPeerConnection] = []
        self._tapped: set[str] = set()

    def _sink(self, mid: str, kind: str) -> _Sink:
        return _Sink(self.received, self.owners, mid, kind)

    async def traffic(self) -> dict[str, int]:
        """Media packets received, transport bytes both ways, media payload bytes sent."""
        out = {"rtp_packets": self.received.packets, "wire_in": 0, "wire_out": 0, "payload_out": 0}
        for pc in self.pcs:
            report = await pc.getStats()
            for stats in report.values():
                if stats.type == "outbound-rtp":
                    out["payload_out"] += stats.bytesSent
                elif stats.type == "transport":
                    out["wire_in"] += stats.bytesReceived
                    out["wire_out"] += stats.bytesSent
        return out

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


class RoomtonePeer(BenchPeer):
    """A participant of Roomtone's `sfu` mode (docs/PROTOCOL.md)."""

    def __init__(self, http: aiohttp.ClientSession, ws_url: str, name: str, clips: Any) -> None:
        super().__init__(name, clips)
        self.http = http
        self.ws_url = ws_url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(self.pc)
        self.errors: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def join(self) -> None:
        self.ws = await self.http.ws_connect(self.ws_url)
        await self.ws.send_json({"type": "join", "name": self.name})
        welcome = await self.ws.receive_json(timeout=60)
        if welcome.get("type") != "welcome" or welcome.get("mediaTransport") != "sfu":
            raise RuntimeError(f"not an sfu-mode welcome: {welcome}")
        self.id = welcome["id"]
        self._reader = asyncio.get_running_loop().create_task(self._read())
        publish_clips(self.pc, self.clips)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self._signal({"type": "offer", "sdp": self.pc.localDescription.sdp})

    async def _signal(self, description: dict[str, str]) -> None:
        assert self.ws is not None
        message = {"type": "signal", "to": "sfu", "data": {"description": description}}
        await self.ws.send_json(message)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT or msg.data.startswith('{"type":"entropy"'):
                continue
            message = json.loads(msg.data)
            if message.get("type") == "error":
                self.errors.append(str(message.get("message")))
            elif message.get("type") == "signal" and message.get("from") == "sfu":
                try:
                    await self._on_description(message["data"])
                except Exception as exc:  # kept for the report, never fatal
                    self.errors.append(repr(exc))

    async def _on_description(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if not description:
            return
        await self.pc.setRemoteDescription(RTCSessionDescription(**description))
        if description["type"] != "offer":
            return
        for track in data.get("tracks", []):
            self.owners[str(track["mid"])] = track["peerId"]
        tap_new_receivers(self.pc, self._tapped, self._sink)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self._signal({"type": "answer", "sdp": self.pc.localDescription.sdp})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await super().close()


def _janus_pc() -> RTCPeerConnection:
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


class JanusPeer(BenchPeer):
    """A VideoRoom participant: a publisher handle, then a subscriber handle for all others."""

    def __init__(self, http: aiohttp.ClientSession, url: str, name: str, clips: Any) -> None:
        super().__init__(name, clips)
        self.http = http
        self.url = url
        self.session: JanusSession | None = None
        self.feed = 0
        self.private_id = 0
        self.publisher: JanusHandle | None = None

    async def publish(self, timeout: float = 60.0) -> int:
        """Join as publisher and send media; returns the feed id once Janus says `webrtcup`."""
        self.session = await JanusSession.create(self.http, self.url)
        self.publisher = await self.session.attach(VIDEOROOM)
        body = {"request": "join", "ptype": "publisher", "room": ROOM, "display": self.name}
        joined = (await self.publisher.message(body))["plugindata"]["data"]
        self.feed, self.private_id = int(joined["id"]), int(joined.get("private_id", 0))
        pc = _janus_pc()
        self.pcs.append(pc)
        publish_clips(pc, self.clips)
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False}
        reply = await self.publisher.message({"request": "publish"}, jsep=offer)
        await pc.setRemoteDescription(RTCSessionDescription(**_description(reply["jsep"])))
        await asyncio.wait_for(self.publisher.webrtcup.wait(), timeout)
        return self.feed

    async def subscribe(self, feeds: dict[int, str]) -> None:
        """Receive every feed in `feeds` (feed id → participant) over one connection."""
        assert self.session is not None
        handle = await self.session.attach(VIDEOROOM)
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": ROOM,
            "private_id": self.private_id,
            "streams": [{"feed": feed} for feed in feeds],
        }
        reply = await handle.message(body)
        for stream in reply["plugindata"]["data"].get("streams", []):
            if stream.get("feed_id") is not None:
                self.owners[str(stream["mid"])] = feeds[int(stream["feed_id"])]
        pc = _janus_pc()
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(**_description(reply["jsep"])))
        tap_new_receivers(pc, self._tapped, self._sink)
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False}
        await handle.message({"request": "start"}, jsep=answer)

    async def close(self) -> None:
        await super().close()
        if self.session is not None:
            await self.session.close()


def _description(jsep: dict[str, Any]) -> dict[str, str]:
    return {"type": jsep["type"], "sdp": jsep["sdp"]}
