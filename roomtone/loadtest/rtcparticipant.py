"""A synthetic WebRTC participant, meshed (`webrtc` mode) or with one connection to
the server's peer `sfu` (`sfu` mode), negotiating exactly as docs/PROTOCOL.md says.

Mesh: existing peers offer to a newcomer on `peer-joined`; the newcomer answers.
SFU: the client offers after `welcome`, answers the server's renegotiation
offers, and learns from their `tracks` which participant each mid carries.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from roomtone.loadtest.control import join
from roomtone.loadtest.media import PacketLoop
from roomtone.loadtest.metrics import Metrics
from roomtone.loadtest.rtcmedia import FrameCounter, PreEncodedTrack, Schedule
from roomtone.sfu import aiortc_adapter as adapter

SFU_PEER = "sfu"


@dataclass
class RtcContext:
    """Everything the participants of one run share."""

    session: aiohttp.ClientSession
    ws_url: str
    mode: str  # "webrtc" or "sfu"
    metrics: Metrics
    packets: PacketLoop
    schedules: dict[str, Schedule] = field(default_factory=dict)


def _ice_servers(welcome: dict[str, Any]) -> list[RTCIceServer]:
    """The servers from `welcome` only: an empty list keeps aiortc off its default public STUN."""
    servers = []
    for entry in welcome.get("iceServers") or []:
        if isinstance(entry, dict) and entry.get("urls"):
            servers.append(
                RTCIceServer(
                    urls=entry["urls"],
                    username=entry.get("username"),
                    credential=entry.get("credential"),
                )
            )
    return servers


class RtcParticipant:
    """One socket for signaling plus one peer connection per remote peer (or to `sfu`)."""

    def __init__(self, ctx: RtcContext, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.id = ""
        self.joined_at = 0.0
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.mids: dict[str, str] = {}  # sfu mode: mid → publisher id
        self._ice: list[RTCIceServer] = []
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._schedule: Schedule | None = None

    async def start(self) -> None:
        """Join, publish and (sfu) send the first offer; raises JoinError."""
        self.ws, welcome = await join(self.ctx.session, self.ctx.ws_url, self.name, self.ctx.mode)
        self.id = welcome["id"]
        self.joined_at = time.perf_counter()
        self._ice = _ice_servers(welcome)
        self._schedule = Schedule(self.ctx.packets, self.joined_at)
        self.ctx.schedules[self.id] = self._schedule
        self._task = asyncio.create_task(self._read())
        if self.ctx.mode == "sfu":
            await self._offer(self._connection(SFU_PEER))

    def _connection(self, peer: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice))
        self.pcs[peer] = pc
        assert self._schedule is not None
        for kind in ("audio", "video"):
            pc.addTrack(PreEncodedTrack(kind, self._schedule))

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next((t for t in pc.getTransceivers() if t.receiver.track is track), None)
            if transceiver is None:
                return
            counter = FrameCounter(
                track.kind, self.ctx.metrics, self._publisher(peer, transceiver), self.ctx.schedules
            )
            try:  # the `track` event comes before aiortc starts the receiver
                adapter.tap_receiver(transceiver.receiver, counter)
            except RuntimeError:
                self.ctx.metrics.error("could not attach a frame counter (aiortc changed?)")

        return pc

    def _publisher(self, peer: str, transceiver: RTCRtpTransceiver) -> Any:
        if peer != SFU_PEER:
            return lambda: peer
        return lambda: self.mids.get(transceiver.mid or "")

    async def _send(self, to: str, data: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"type": "signal", "to": to, "data": data}))

    async def _offer(self, pc: RTCPeerConnection) -> None:
        peer = next(p for p, c in self.pcs.items() if c is pc)
        await pc.setLocalDescription(await pc.createOffer())
        local = pc.localDescription
        await self._send(peer, {"description": {"type": local.type, "sdp": local.sdp}})

    async def _read(self) -> None:
        assert self.ws is not None
        metrics = self.ctx.metrics
        while True:
            msg = await self.ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    continue
                if not self._closing:
                    metrics.error(f"socket closed by the server (code {self.ws.close_code})")
                return
            if msg.data.startswith('{"type":"entropy"'):
                continue
            try:
                await self._on_message(json.loads(msg.data))
            except Exception as exc:  # one bad negotiation must not end the participant
                if not self._closing:
                    metrics.error(f"signaling failed: {type(exc).__name__}: {exc}"[:160])

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "error":
            self.ctx.metrics.error(f"server: {message.get('message')}")
        elif kind == "peer-joined" and self.ctx.mode == "webrtc":
            await self._offer(self._connection(message["peer"]["id"]))
        elif kind == "peer-left" and self.ctx.mode == "webrtc":
            pc = self.pcs.pop(message.get("peerId", ""), None)
            if pc is not None:
                await pc.close()
        elif kind == "signal":
            await self._on_signal(message.get("from", ""), message.get("data") or {})

    async def _on_signal(self, peer: str, data: dict[str, Any]) -> None:
        if self.ctx.mode == "sfu" and peer != SFU_PEER:
            return
        pc = self.pcs.get(peer)
        description = data.get("description")
        if description is not None:
            if description["type"] == "offer":
                for track in data.get("tracks") or []:
                    self.mids[str(track["mid"])] = track["peerId"]
                if pc is None:
                    pc = self._connection(peer)
            if pc is None:
                return
            await pc.setRemoteDescription(RTCSessionDescription(**description))
            if description["type"] == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                answer = {"type": "answer", "sdp": pc.localDescription.sdp}
                await self._send(peer, {"description": answer})
        elif pc is not None and data.get("candidate"):
            await pc.addIceCandidate(_candidate(data["candidate"]))

    async def close(self) -> None:
        self._closing = True
        pcs, self.pcs = list(self.pcs.values()), {}
        await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def stop_publishing(self) -> None:
        """Media keeps flowing until close; the final drain window absorbs it."""


def _candidate(data: dict[str, Any]) -> Any:
    text = str(data.get("candidate", ""))
    candidate = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
    candidate.sdpMid = data.get("sdpMid")
    candidate.sdpMLineIndex = data.get("sdpMLineIndex")
    return candidate
