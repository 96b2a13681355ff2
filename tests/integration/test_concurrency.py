"""200 sockets connect, join and leave at once: the room ends empty, every peer-joined an
observer saw is matched by a peer-left, and the server logged no exception.
"""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import pytest

from tests.serverproc import running_server
from tests.wsclient import ProtocolClient

SOCKETS = 200


async def churn(session: aiohttp.ClientSession, url: str, index: int) -> None:
    await asyncio.sleep(random.random() * 0.5)
    ws = await session.ws_connect(url, max_msg_size=0)
    await ws.send_str(json.dumps({"type": "join", "name": f"p{index}"}))
    while True:
        msg = await ws.receive(timeout=30)
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "welcome":
            break
    await asyncio.sleep(random.random() * 0.5)
    await ws.close()


@pytest.mark.parametrize("mode", ["ws", "webrtc"])
async def test_200_sockets_join_and_leave_concurrently(mode):
    env = {
        "MEDIA_TRANSPORT": mode,
        "MAX_PARTICIPANTS": "250",
        "MAX_UNJOINED_SOCKETS": "300",
        "MAX_UNJOINED_PER_ADDRESS": "300",
    }
    with running_server(env) as server:
        observer = await ProtocolClient.connect(server.ws_url)
        await observer.join("Observer")
        joined: set[str] = set()
        left: set[str] = set()

        async def observe() -> None:
            while True:
                message = await observer.receive(timeout=60)
                if message["type"] == "peer-joined":
                    joined.add(message["peer"]["id"])
                elif message["type"] == "peer-left":
                    left.add(message["peerId"])

        watcher = asyncio.ensure_future(observe())
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(churn(session, server.ws_url, i) for i in range(SOCKETS)))
        for _ in range(100):
            if len(left) >= SOCKETS:
                break
            await asyncio.sleep(0.1)
        watcher.cancel()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/participants") as response:
                roster = await response.json()
        await observer.close()
        assert len(joined) == SOCKETS
        assert joined == left
        assert [p["name"] for p in roster] == ["Observer"]
        output = server.output()
    for marker in ("Traceback", "Error handling request", "exception was never retrieved"):
        assert marker not in output
