"""docs/PROTOCOL.md over real sockets against the real server process: room, errors, keepalive,
limits, the webrtc signal relay, and shutdown. (WS media messages: test_ws_media.py.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import pytest

from tests.serverproc import running_server
from tests.wsclient import ProtocolClient

ICE = (
    '[{"urls":"stun:stun.example.org:3478"},'
    '{"urls":"turn:t.example","username":"u","credential":"p"}]'
)


@pytest.fixture(scope="module", params=["ws", "webrtc"])
def server(request):
    env = {
        "MEDIA_TRANSPORT": request.param,
        "MAX_PARTICIPANTS": "3",
        "ICE_SERVERS": ICE,
        "ICE_TRANSPORT_POLICY": "relay",
        "WS_MAX_PAYLOAD": "65536",
        "JOIN_TIMEOUT_SECONDS": "2",
    }
    with running_server(env) as server:
        yield server


@pytest.fixture
async def connect(server):
    clients: list[ProtocolClient] = []

    async def _connect() -> ProtocolClient:
        client = await ProtocolClient.connect(server.ws_url)
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        await client.close()
    await asyncio.sleep(0.1)  # let the server process the leaves before the next test


async def test_welcome_fields(server, connect):
    alice = await connect()
    welcome = await alice.join("  Alice  ")
    assert uuid.UUID(welcome["id"])
    assert welcome["participants"] == []
    assert welcome["mediaTransport"] in ("ws", "webrtc")
    assert welcome["iceServers"] == json.loads(ICE)
    assert welcome["iceTransportPolicy"] == "relay"
    assert welcome["mediaPeers"] == []
    bob = await connect()
    welcome = await bob.join("Bob")
    assert welcome["participants"] == [{"id": alice.id, "name": "Alice"}]
    joined = await alice.expect("peer-joined")
    assert joined["peer"] == {"id": bob.id, "name": "Bob"}


async def test_ids_are_server_generated_and_unique(connect):
    a, b = await connect(), await connect()
    await a.send({"type": "join", "name": "A", "id": "chosen-by-me"})
    welcome_a = await a.expect("welcome")
    welcome_b = await b.join("B")
    assert welcome_a["id"] != "chosen-by-me" and welcome_a["id"] != welcome_b["id"]


async def test_name_rules(connect):
    client = await connect()
    for bad in ("", "   ", None, 42, ["x"]):
        await client.send({"type": "join", "name": bad})
        assert await client.receive() == {"type": "error", "message": "Name is required."}
    welcome = await client.join("Ж" * 50 + "tail")
    other = await connect()
    roster = (await other.join("Other"))["participants"]
    assert {"id": welcome["id"], "name": "Ж" * 40} in roster


async def test_names_lose_control_characters(connect):
    client = await connect()
    welcome = await client.join("\x00Al\u202eice\n\t\x1b[31m")
    family = "👨\u200d👩\u200d👧"
    other = await connect()
    await other.join(family)
    roster = (await (await connect()).join("Third"))["participants"]
    names = {p["id"]: p["name"] for p in roster}
    assert names[welcome["id"]] == "Alice[31m"
    assert names[other.id] == family


async def test_second_join_ignored(connect):
    client = await connect()
    welcome = await client.join("Once")
    await client.send({"type": "join", "name": "Twice"})
    await client.send({"type": "entropy", "bytes": 4, "data": "AAAAAA=="})
    other = await connect()
    roster = (await other.join("Other"))["participants"]
    assert roster == [{"id": welcome["id"], "name": "Once"}]


async def test_invalid_json_and_invalid_message(connect):
    client = await connect()
    await client.send("{not json")
    assert await client.receive() == {"type": "error", "message": "Invalid JSON."}
    await client.send("[1, 2]")
    assert (await client.receive())["type"] == "error"
    await client.join("Still here")  # the socket stays open


@pytest.mark.parametrize("kind", ["signal", "media-start", "media-stop"])
async def test_join_first(connect, kind):
    client = await connect()
    await client.send({"type": kind, "to": "x", "data": {}, "mimeType": "video/webm"})
    assert await client.receive() == {"type": "error", "message": "Join first."}
    await client.ws.send_bytes(b"\x00" * 100)  # binary before join: ignored
    await client.join("Later")


async def test_peer_left_on_close(connect):
    stay, go = await connect(), await connect()
    await stay.join("Stay")
    await go.join("Go")
    await stay.expect("peer-joined")
    await go.ws.close()
    assert (await stay.expect("peer-left")) == {"type": "peer-left", "peerId": go.id}


async def test_room_full_closes_1008(server, connect):
    members = [await connect() for _ in range(3)]
    for i, member in enumerate(members):
        await member.join(f"M{i}")
    extra = await connect()
    await extra.send({"type": "join", "name": "Fourth"})
    assert await extra.receive() == {"type": "error", "message": "Room is full."}
    assert await extra.wait_closed() == 1008


async def test_entropy_keepalive_from_server(connect):
    client = await connect()
    await client.join("Idle")
    started = time.monotonic()
    while client.entropy < 2 and time.monotonic() - started < 10:
        msg = await client.ws.receive(timeout=10)
        data = json.loads(msg.data)
        if data["type"] == "entropy":
            raw = base64.b64decode(data["data"])
            assert len(raw) == data["bytes"] and 128 <= data["bytes"] <= 1024
            client.entropy += 1
    assert client.entropy >= 2


async def test_unjoined_socket_closed_after_deadline(connect):
    client = await connect()
    assert await client.wait_closed(timeout=6) == 1008


async def test_oversized_message_closes_1009(connect):
    client = await connect()
    await client.join("Big")
    await client.send({"type": "entropy", "bytes": 1, "data": "A" * 70000})
    assert await client.wait_closed() == 1009


async def test_events_on_stdout_without_secrets(server, connect):
    client = await connect()
    welcome = await client.join("Evented")
    await client.ws.close()
    await asyncio.sleep(0.3)
    events = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    mine = [e for e in events if e.get("id") == welcome["id"]]
    assert [e["event"] for e in mine] == ["joined", "left"]


# --- webrtc signal relay ------------------------------------------------------------


async def test_signal_relay(server, connect):
    a, b = await connect(), await connect()
    await a.join("A")
    await b.join("B")
    payload = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
    await a.send({"type": "signal", "to": b.id, "data": payload})
    if a.welcome["mediaTransport"] == "webrtc":
        assert await b.expect("signal") == {"type": "signal", "from": a.id, "data": payload}
        await a.send({"type": "signal", "to": str(uuid.uuid4()), "data": payload})
        assert await a.expect("error") == {
            "type": "error",
            "message": "Peer is no longer available.",
        }
    else:
        assert (await a.expect("error"))["message"]


# --- shutdown ----------------------------------------------------------------------


def test_sigterm_closes_sockets_1001_and_exits_fast():
    async def scenario(url: str, stop) -> int | None:
        client = await ProtocolClient.connect(url)
        await client.join("Leaving")
        stop()
        try:
            return await client.wait_closed(timeout=5)
        finally:
            await client.close()

    with running_server({"MEDIA_TRANSPORT": "webrtc"}) as server:
        started = {}

        def stop():
            started["t"] = time.monotonic()
            server.proc.terminate()

        code = asyncio.run(scenario(server.ws_url, stop))
        server.proc.wait(10)
        elapsed = time.monotonic() - started["t"]
    assert code == 1001
    assert server.proc.returncode == 0
    assert elapsed < 5
