"""The `/ws` endpoint: one session per socket, validating messages and dispatching
them to the room and the active transport (PROTOCOL.md is the contract).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from roomtone import eventlog
from roomtone.config import ServerConfig
from roomtone.keepalive import Keepalive
from roomtone.outbox import Outbox
from roomtone.room import Participant, Room, RoomFull, clean_name
from roomtone.security import client_address
from roomtone.transport import Transport

log = logging.getLogger(__name__)

TRANSPORT_MESSAGES = frozenset({"signal", "media-start", "media-stop"})
# aiohttp pings every HEARTBEAT s and drops a socket that misses the pong: how a
# vanished network (no FIN) is noticed.
HEARTBEAT_SECONDS = 20.0
UPGRADE_HINT = (
    "This endpoint expects a WebSocket upgrade. If Roomtone runs behind a reverse proxy, "
    "the proxy must forward the Upgrade and Connection headers (see README, Proxying).\n"
)


def error(message: str) -> dict[str, str]:
    return {"type": "error", "message": message}


class Session:
    """One WebSocket: before join it only accepts `join`; after, it is a participant."""

    def __init__(self, signaling: Signaling, ws: web.WebSocketResponse, address: str) -> None:
        self.signaling = signaling
        self.ws = ws
        self.address = address
        self.outbox = Outbox(ws.send_str, ws.send_bytes, self._close_ws)
        self.keepalive = Keepalive(self.outbox.send_json)
        self.participant: Participant | None = None
        self._deadline: asyncio.TimerHandle | None = None

    async def _close_ws(self, code: int, reason: bytes) -> None:
        await self.ws.close(code=code, message=reason)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.outbox.start()
        self.keepalive.start()
        timeout = self.signaling.config.join_timeout_seconds
        self._deadline = loop.call_later(timeout, self._join_deadline_passed)
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self.on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    if self.participant is not None and msg.data:
                        self.signaling.transport.on_binary(self.participant, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    log.debug("socket error from %s: %s", self.address, self.ws.exception())
                    break
        finally:
            self._deadline.cancel()
            self.keepalive.stop()
            self.leave()
            await self.outbox.stop()

    def _join_deadline_passed(self) -> None:
        if self.participant is None:
            self.outbox.close(WSCloseCode.POLICY_VIOLATION, b"Join timeout.")

    async def on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            self.outbox.send_json(error("Invalid JSON."))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if not isinstance(kind, str):
            self.outbox.send_json(error("Invalid message."))
            return
        if kind == "entropy":
            return
        if kind == "join":
            await self.join(message)
        elif self.participant is None:
            self.outbox.send_json(error("Join first."))
        elif kind in TRANSPORT_MESSAGES:
            await self.signaling.transport.on_message(self.participant, message)
        else:
            log.debug("ignoring unknown message type %.40r", kind)

    async def join(self, message: dict[str, Any]) -> None:
        if self.participant is not None:
            return  # a second join on the same socket is ignored
        name = clean_name(message.get("name"))
        if not name:
            self.outbox.send_json(error("Name is required."))
            return
        signaling = self.signaling
        try:
            participant = signaling.room.add(name, self.outbox)
        except RoomFull:
            self.outbox.send_json(error("Room is full."))
            await self.outbox.flush_and_close(WSCloseCode.POLICY_VIOLATION, b"Room is full.")
            return
        self.participant = participant
        participant.send(signaling.welcome(participant))
        signaling.room.broadcast(
            {"type": "peer-joined", "peer": participant.public()}, exclude=participant.id
        )
        eventlog.emit("joined", id=participant.id, participants=len(signaling.room))
        signaling.transport.on_join(participant)

    def leave(self) -> None:
        participant, self.participant = self.participant, None
        if participant is None:
            return
        room = self.signaling.room
        self.signaling.transport.on_leave(participant)
        room.remove(participant.id)
        room.broadcast({"type": "peer-left", "peerId": participant.id})
        eventlog.emit("left", id=participant.id, participants=len(room))


class Signaling:
    """Owns the room's sockets; `handle` is the aiohttp handler for `/ws`."""

    def __init__(self, config: ServerConfig, room: Room, transport: Transport) -> None:
        self.config = config
        self.room = room
        self.transport = transport
        self.sessions: set[Session] = set()

    def welcome(self, participant: Participant) -> dict[str, Any]:
        return {
            "type": "welcome",
            "id": participant.id,
            "participants": self.room.roster(exclude=participant.id),
            "iceServers": list(self.config.ice_servers),
            "iceTransportPolicy": self.config.ice_transport_policy,
            "mediaTransport": self.transport.name,
            **self.transport.welcome_fields(participant),
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=self.config.ws_max_payload,
            heartbeat=HEARTBEAT_SECONDS,
            compress=False,  # media does not compress; deflate would only burn CPU
        )
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=426,
                text=UPGRADE_HINT,
                headers={"Upgrade": "websocket", "Connection": "Upgrade"},
            )
        await ws.prepare(request)
        session = Session(self, ws, client_address(request, self.config))
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
        return ws

    async def shutdown(self) -> None:
        """Server stopping: close every socket with 1001 Going Away."""
        sessions = list(self.sessions)
        for session in sessions:
            session.outbox.close(WSCloseCode.GOING_AWAY, b"Server shutting down.")
        await asyncio.gather(
            *(session.ws.close(code=WSCloseCode.GOING_AWAY) for session in sessions),
            return_exceptions=True,
        )
