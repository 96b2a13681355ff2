"""Joining the room over `/ws`, shared by every kind of synthetic participant.

Only the handshake lives here; after `welcome` each participant reads its own
socket, so media frames never go through a generic dispatcher.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

JOIN_TIMEOUT = 10.0


class JoinError(Exception):
    """The server refused the join or the socket failed before `welcome`."""


class ModeMismatch(JoinError):
    """The server runs another media transport than the one asked for."""


async def join(
    session: aiohttp.ClientSession, ws_url: str, name: str, mode: str
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """Connect, send `join`, return the socket and `welcome` (entropy skipped)."""
    try:
        ws = await session.ws_connect(ws_url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(10))
    except aiohttp.WSServerHandshakeError as exc:
        hint = " (auth: pass --token)" if exc.status == 401 else ""
        raise JoinError(f"WebSocket handshake refused: HTTP {exc.status}{hint}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise JoinError(f"cannot connect: {exc}") from None
    try:
        await ws.send_str(json.dumps({"type": "join", "name": name}))
        deadline = time.monotonic() + JOIN_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JoinError("no welcome within 10 s")
            try:
                msg = await ws.receive(timeout=remaining)
            except TimeoutError:
                raise JoinError("no welcome within 10 s") from None
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    continue
                raise JoinError(f"socket closed before welcome (code {ws.close_code})")
            try:
                message = json.loads(msg.data)
            except ValueError:
                raise JoinError("the server sent invalid JSON") from None
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "welcome":
                break
            if kind == "error":
                text = str(message.get("message"))
                hint = " (pass --token or ?token= in --url)" if "token" in text.lower() else ""
                raise JoinError(f"server: {text}{hint}")
        actual = message.get("mediaTransport", "ws")
        if actual != mode:
            raise ModeMismatch(f"the server runs MEDIA_TRANSPORT={actual}; use --mode {actual}")
        return ws, message
    except BaseException:
        await ws.close()
        raise
