"""docs/PROTOCOL.md's ws mode section over real sockets: media-start/stop fields and errors,
the binary framing, no echo, `mediaPeers` for late joiners, `media-stop` before
`peer-left`. (Stream-structure behaviour — late joiners, stalled peers — is in
test_wsrelay*.py.)
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.serverproc import running_server
from tests.wsclient import ProtocolClient

MIME = "video/webm;codecs=vp8,opus"


@pytest.fixture(scope="module")
def server():
    with running_server({"MEDIA_TRANSPORT": "ws", "WS_MAX_PAYLOAD": "65536"}) as server:
        yield server


@pytest.fixture
async def pair(server):
    alice = await ProtocolClient.connect(server.ws_url)
    bob = await ProtocolClient.connect(server.ws_url)
    await alice.join("Alice")
    await bob.join("Bob")
    await alice.expect("peer-joined")
    yield alice, bob
    await alice.close()
    await bob.close()
    await asyncio.sleep(0.1)


def parse_packet(packet: bytes) -> tuple[str, bytes]:
    assert packet[0] == 1
    length = packet[1]
    return packet[2 : 2 + length].decode(), packet[2 + length :]


async def binary_frames(client: ProtocolClient, count: int, timeout: float = 5) -> list[bytes]:
    """Read raw frames until `count` binary ones arrived (control messages are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(client.binary) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            msg = await client.ws.receive(timeout=remaining)
        except TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.BINARY:
            client.binary.append(msg.data)
    return client.binary


@pytest.mark.parametrize(
    "mime",
    ["", "webm", "video/", "video/webm codecs", "x" * 130, "video/webm;" + "a" * 120, 5, None],
)
async def test_invalid_mime_type(pair, mime):
    alice, _ = pair
    await alice.send({"type": "media-start", "mimeType": mime})
    assert await alice.expect("error") == {"type": "error", "message": "Invalid media MIME type."}


async def test_media_start_stop_broadcast(pair):
    alice, bob = pair
    await alice.send({"type": "media-start", "mimeType": MIME})
    assert await bob.expect("media-start") == {
        "type": "media-start",
        "peerId": alice.id,
        "mimeType": MIME,
    }
    await alice.send({"type": "media-stop"})
    assert await bob.expect("media-stop") == {"type": "media-stop", "peerId": alice.id}


async def test_binary_framing_not_echoed_and_ignored_before_media_start(pair):
    alice, bob = pair
    await alice.ws.send_bytes(b"before media-start")  # ignored
    await alice.send({"type": "media-start", "mimeType": "audio/webm;codecs=opus"})
    await bob.expect("media-start")
    await alice.ws.send_bytes(b"")  # empty: ignored
    # not WebM: the relay may refuse to forward what it cannot parse, so send a real header
    header = (
        bytes.fromhex("1a45dfa3")
        + b"\x9f"
        + bytes.fromhex(
            "4286810142f7810142f2810442f381084282847765626d42878104428581021853806701ffffffffffffff"
        )
    )
    await alice.ws.send_bytes(header)
    frames = await binary_frames(bob, 1)
    assert frames, "bob received nothing"
    peer_id, payload = parse_packet(b"".join(frames[:1]))
    assert peer_id == alice.id
    assert header.startswith(payload) or payload.startswith(header[: len(payload)])
    await asyncio.sleep(0.3)
    assert alice.binary == []  # never echoed


async def test_late_joiner_gets_media_peers(server, pair):
    alice, bob = pair
    await alice.send({"type": "media-start", "mimeType": MIME})
    await bob.expect("media-start")
    carol = await ProtocolClient.connect(server.ws_url)
    try:
        welcome = await carol.join("Carol")
        assert welcome["mediaPeers"] == [{"id": alice.id, "mimeType": MIME}]
    finally:
        await carol.close()


async def test_media_stop_precedes_peer_left(pair):
    alice, bob = pair
    await alice.send({"type": "media-start", "mimeType": MIME})
    await bob.expect("media-start")
    alice_id = alice.id
    await alice.ws.close()
    first = await bob.receive()
    second = await bob.receive()
    assert first == {"type": "media-stop", "peerId": alice_id}
    assert second == {"type": "peer-left", "peerId": alice_id}


async def test_oversized_packet_dropped_and_logged(server, pair):
    alice, bob = pair
    await alice.send({"type": "media-start", "mimeType": MIME})
    await bob.expect("media-start")
    # fits one WS message (65536) but not once framed with the 38-byte header
    await alice.ws.send_bytes(b"\x00" * (65536 - 10))
    await asyncio.sleep(0.5)
    assert all(len(frame) <= 65536 for frame in bob.binary)
    await alice.send({"type": "media-stop"})
    await bob.expect("media-stop")  # the socket and the room keep working
