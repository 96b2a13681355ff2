"""The `/ws` endpoint: one session per socket, validating messages and dispatching
them to the room lifecycle and the active transport (docs/PROTOCOL.md is the contract).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from roomtone import presence, protocol
from roomtone.config import ServerConfig
from roomtone.errors import (
    INVALID_JSON,
    INVALID_MESSAGE,
    JOIN_FIRST,
    NAME_REQUIRED,
    ROOM_FULL,
    TOO_MANY_MESSAGES,
    TOO_MUCH_MEDIA,
    WRONG_MODE,
    error,
)
from roomtone.keepalive import Keepalive
from roomtone.lifecycle import RoomLifecycle
from roomtone.outbox import Outbox
from roomtone.ratelimit import DebtLimit, SustainedLimit
from roomtone.room import Participant, Room, RoomFull, clean_name
from roomtone.security import client_address
from roomtone.transport import Transport

log = logging.getLogger(__name__)

UPGRADE_HINT = (
    "This endpoint expects a WebSocket upgrade. If Roomtone runs behind a reverse proxy, "
    "the proxy must forward the Upgrade and Connection headers (see README, Proxying).\n"
)


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
        self._holds_unjoined_slot = True  # acquired by Signaling.handle before creating us
        limits = signaling.config.limits
        self.message_limit = SustainedLimit(
            limits.messages_per_second, 4 * limits.messages_per_second
        )
        self.media_limit = DebtLimit(
            limits.media_bytes_per_second,
            max(2 * limits.media_bytes_per_second, signaling.config.ws_max_payload),
        )

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
                    if self.within(self.message_limit, 1, TOO_MANY_MESSAGES):
                        await self.on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    if self.participant is not None and msg.data:
                        # Media over the limit is still forwarded (a gap would corrupt the
                        # stream for everyone) until the debt says the excess is sustained.
                        self.within(self.media_limit, len(msg.data), TOO_MUCH_MEDIA)
                        if not self.outbox.closed:
                            self.signaling.transport.on_binary(self.participant, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    log.debug("socket error from %s: %s", self.address, self.ws.exception())
                    break
        finally:
            self._deadline.cancel()
            self.keepalive.stop()
            self.leave()
            await self.outbox.stop()

    def within(self, limit: SustainedLimit | DebtLimit, amount: int, complaint: str) -> bool:
        """Apply a rate limit: refuse the excess with an error, close if it is sustained."""
        verdict = limit.check(amount)
        if verdict == "ok":
            return True
        if verdict == "close":
            log.info("closing %s: sustained rate-limit excess", self.address)
            self.outbox.close(protocol.CLOSE_RATE_LIMITED)
        elif limit.should_warn():
            self.outbox.send_json(error(complaint))
        return False

    def release_unjoined_slot(self) -> None:
        if self._holds_unjoined_slot:
            self._holds_unjoined_slot = False
            self.signaling.unjoined.release(self.address)

    def _join_deadline_passed(self) -> None:
        if self.participant is None:
            self.outbox.close(protocol.CLOSE_JOIN_TIMEOUT)

    async def on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            self.outbox.send_json(error(INVALID_JSON))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if not isinstance(kind, str):
            self.outbox.send_json(error(INVALID_MESSAGE))
            return
        if kind == protocol.ENTROPY:
            return
        if kind == protocol.JOIN:
            await self.join(message)
        elif self.participant is None:
            self.outbox.send_json(error(JOIN_FIRST))
        elif kind == protocol.STATE:
            presence.update(self.signaling.room, self.participant, message)
        elif kind in self.signaling.transport.messages:
            await self.signaling.transport.on_message(self.participant, message)
        elif kind in WRONG_MODE:
            self.outbox.send_json(error(WRONG_MODE[kind]))
        else:
            log.debug("ignoring unknown message type %.40r", kind)

    async def join(self, message: dict[str, Any]) -> None:
        if self.participant is not None:
            return  # a second join on the same socket is ignored
        name = clean_name(message.get("name"))
        if not name:
            self.outbox.send_json(error(NAME_REQUIRED))
            return
        try:
            self.participant = self.signaling.lifecycle.join(name, self.outbox)
        except RoomFull:
            self.outbox.send_json(error(ROOM_FULL))
            await self.outbox.flush_and_close(protocol.CLOSE_ROOM_FULL)
            return
        self.release_unjoined_slot()

    def leave(self) -> None:
        participant, self.participant = self.participant, None
        if participant is not None:
            self.signaling.lifecycle.leave(participant)


class UnjoinedSockets:
    """Counts sockets that connected but have not joined, in all and per address.

    Unjoined sockets cost memory and timers but are anonymous; capping them keeps
    a connection flood from starving the room.
    """

    def __init__(self, total: int, per_address: int) -> None:
        self.total_limit = total
        self.per_address_limit = per_address
        self.total = 0
        self.by_address: dict[str, int] = {}

    def acquire(self, address: str) -> bool:
        held = self.by_address.get(address, 0)
        if self.total >= self.total_limit or held >= self.per_address_limit:
            return False
        self.total += 1
        self.by_address[address] = held + 1
        return True

    def release(self, address: str) -> None:
        held = self.by_address.get(address, 0)
        if held <= 0:
            return
        self.total -= 1
        if held == 1:
            del self.by_address[address]
        else:
            self.by_address[address] = held - 1


class Signaling:
    """Owns the room's sockets; `handle` is the aiohttp handler for `/ws`."""

    def __init__(self, config: ServerConfig, room: Room, transport: Transport) -> None:
        self.config = config
        self.room = room
        self.transport = transport
        self.lifecycle = RoomLifecycle(config, room, transport)
        self.sessions: set[Session] = set()
        self.unjoined = UnjoinedSockets(
            config.limits.max_unjoined_sockets, config.limits.max_unjoined_per_address
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=self.config.ws_max_payload,
            # aiohttp pings and drops a socket that misses the pong: how a vanished
            # network (no FIN, no close) is noticed.
            heartbeat=self.config.limits.heartbeat_seconds,
            compress=False,  # media does not compress; deflate would only burn CPU
        )
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=426,
                text=UPGRADE_HINT,
                headers={"Upgrade": "websocket", "Connection": "Upgrade"},
            )
        address = client_address(request, self.config)
        if not self.unjoined.acquire(address):
            return web.Response(status=429, text="Too many connections that have not joined.\n")
        session = Session(self, ws, address)
        self.sessions.add(session)
        try:
            await ws.prepare(request)
            await session.run()
        finally:
            self.sessions.discard(session)
            session.release_unjoined_slot()
        return ws

    async def shutdown(self) -> None:
        """Server stopping: close every socket with 1001 Going Away."""
        sessions = list(self.sessions)
        for session in sessions:
            session.outbox.close(protocol.CLOSE_SHUTTING_DOWN)
        await asyncio.gather(
            *(session.ws.close(code=protocol.CLOSE_SHUTTING_DOWN.code) for session in sessions),
            return_exceptions=True,
        )
