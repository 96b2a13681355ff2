"""Abuse limits: floods get errors then close 1008, unjoined sockets are capped, /logs is
rate-limited, and a peer whose network vanishes is removed — while a well-behaved
participant keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest

from tests.rawws import RawWebSocket
from tests.serverproc import running_server
from tests.wsclient import ProtocolClient


async def flood_until_closed(client: ProtocolClient, send, seconds: float = 10) -> list[str]:
    """Send as fast as possible while reading (as a real client does); returns error texts."""
    errors: list[str] = []

    async def read() -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            while True:
                message = await client.receive(timeout=seconds)
                if message["type"] == "error":
                    errors.append(message["message"])

    reader = asyncio.ensure_future(read())
    started = time.monotonic()
    while not client.ws.closed and not reader.done() and time.monotonic() - started < seconds:
        with contextlib.suppress(ConnectionError):
            await send()
        await asyncio.sleep(0.002)
    await asyncio.wait_for(reader, seconds)
    return errors


@pytest.fixture(scope="module")
def server():
    env = {
        "MEDIA_TRANSPORT": "webrtc",
        "WS_MESSAGES_PER_SECOND": "20",
        "WS_MEDIA_BYTES_PER_SECOND": "65536",
        "MAX_UNJOINED_PER_ADDRESS": "3",
        "LOGS_PER_MINUTE": "6",
    }
    with running_server(env) as server:
        yield server


async def test_message_flood_errors_then_closes_others_unaffected(server):
    calm = await ProtocolClient.connect(server.ws_url)
    flood = await ProtocolClient.connect(server.ws_url)
    try:
        await calm.join("Calm")
        await flood.join("Flood")
        errors = await flood_until_closed(
            flood, lambda: flood.send({"type": "signal", "to": calm.id, "data": {"n": 1}})
        )
        assert flood.ws.close_code == 1008
        assert "Too many messages; slow down." in errors
        # the calm one got some of the relayed signals, then peer-left, and still works
        left = await calm.expect("peer-left", timeout=10)
        assert left["peerId"] == flood.id
        other = await ProtocolClient.connect(server.ws_url)
        await other.join("Other")
        assert (await calm.expect("peer-joined"))["peer"]["name"] == "Other"
        await other.close()
    finally:
        await calm.close()
        await flood.close()


async def test_flood_warning_text(server):
    client = await ProtocolClient.connect(server.ws_url)
    try:
        await client.join("Burst")
        for _ in range(120):
            await client.send({"type": "entropy", "bytes": 1, "data": "AA=="})
        message = await client.expect("error")
        assert message["message"] == "Too many messages; slow down."
    finally:
        await client.close()


async def test_media_flood_closes(server):
    client = await ProtocolClient.connect(server.ws_url)
    try:
        await client.join("Firehose")
        errors = await flood_until_closed(client, lambda: client.ws.send_bytes(b"\x00" * 32768))
        assert client.ws.close_code == 1008
        assert "Too much media data; slow down." in errors
    finally:
        await client.close()


async def test_unjoined_sockets_capped_per_address(server):
    held = [await ProtocolClient.connect(server.ws_url) for _ in range(3)]
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await ProtocolClient.connect(server.ws_url)
        assert refused.value.status == 429
        await held[0].join("Now joined")  # frees a slot
        extra = await ProtocolClient.connect(server.ws_url)
        await extra.close()
    finally:
        for client in held:
            await client.close()


async def test_logs_rate_limited(server):
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(6):
            async with session.post(f"{server.url}/logs", data=b'{"event":"spam"}') as response:
                statuses.append(response.status)
        assert statuses[:3] == [204, 204, 204]
        assert 429 in statuses


@pytest.fixture(scope="module")
def fast_heartbeat_server():
    with running_server({"MEDIA_TRANSPORT": "webrtc", "WS_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


async def test_vanished_peer_removed(fast_heartbeat_server):
    server = fast_heartbeat_server
    watcher = await ProtocolClient.connect(server.ws_url)
    ghost = RawWebSocket("127.0.0.1", server.port)
    try:
        await watcher.join("Watcher")
        ghost.send_json({"type": "join", "name": "Ghost"})
        joined = await watcher.expect("peer-joined")
        started = time.monotonic()
        # the ghost never reads and never answers pings: as if its network vanished
        left = await watcher.expect("peer-left", timeout=15)
        assert left["peerId"] == joined["peer"]["id"]
        removal_seconds = time.monotonic() - started
        print(f"vanished peer removed after {removal_seconds:.1f}s with a 1 s heartbeat")
    finally:
        ghost.close()
        await watcher.close()
