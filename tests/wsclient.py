"""A minimal protocol client for integration tests: JSON in, JSON out, entropy skipped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class ProtocolClient:
    """One WebSocket speaking docs/PROTOCOL.md; keeps binary frames and control messages apart."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.session = session
        self.ws = ws
        self.id: str | None = None
        self.welcome: dict[str, Any] | None = None
        self.binary: list[bytes] = []
        self.entropy = 0

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> ProtocolClient:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(url, max_msg_size=0, **kwargs)
        except Exception:
            await session.close()
            raise
        return cls(session, ws)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next control message that is not `entropy`; binary frames are stored."""
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type == aiohttp.WSMsgType.BINARY:
                self.binary.append(msg.data)
                continue
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed: {msg.type} {self.ws.close_code}")
            data = json.loads(msg.data)
            if data.get("type") == "entropy":
                self.entropy += 1
                continue
            return data

    async def expect(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """Skip to the next message of type `kind`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} message")
            message = await self.receive(remaining)
            if message["type"] == kind:
                return message

    async def join(self, name: str) -> dict[str, Any]:
        await self.send({"type": "join", "name": name})
        self.welcome = await self.expect("welcome")
        self.id = self.welcome["id"]
        return self.welcome

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Drain until the server closes; returns the close code."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.ws.closed:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("socket still open")
            msg = await self.ws.receive(timeout=remaining)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()
