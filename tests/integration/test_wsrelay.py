"""WS media mode against the real server: real sockets, a real WebM, real decoding."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from roomtone.wsrelay.framing import parse_packet
from tests import media
from tests.serverproc import ServerProcess, running_server

MIME = "video/webm;codecs=vp8,opus"
WAIT = 20.0  # a guard against hangs, not a timing assertion


class Client:
    """A participant over aiohttp's WebSocket client, recording everything it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, welcome: dict[str, Any]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.id: str = welcome["id"]
        self.messages: list[dict[str, Any]] = []
        self.media: dict[str, bytearray] = {}
        self.binary_frames = 0
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def join(cls, session: aiohttp.ClientSession, url: str, name: str) -> Client:
        ws = await session.ws_connect(url, max_msg_size=0)
        await ws.send_json({"type": "join", "name": name})
        while True:
            message = json.loads(await asyncio.wait_for(ws.receive_str(), WAIT))
            if message["type"] == "welcome":
                return cls(ws, message)

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                message = json.loads(msg.data)
                if message["type"] != "entropy":
                    self.messages.append(message)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                peer_id, payload = parse_packet(msg.data)
                self.media.setdefault(peer_id, bytearray()).extend(payload)
                self.binary_frames += 1
            self._changed.set()

    def received(self, peer_id: str) -> bytes:
        return bytes(self.media.get(peer_id, b""))

    def count(self, peer_id: str) -> int:
        """Bytes received from `peer_id` so far (without copying them)."""
        return len(self.media.get(peer_id, b""))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        async def poll() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(poll(), WAIT)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server() as srv:
        yield srv


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


def sample() -> tuple[bytes, media.Layout]:
    """A MediaRecorder-like stream already in the relay's shape (recluster.py): relayed as is."""
    data = media.relay_shaped(media.mediarecorder_like(media.sample_webm()))
    return data, media.relay_layout(data, {1})


def chunks_of(data: bytes, seed: int, high: int = 20_000) -> list[bytes]:
    """Chunk sizes unrelated to element boundaries, as MediaRecorder's timeslices are."""
    return media.random_chunks(data, random.Random(seed), 1, high)


async def publish(publisher: Client, chunks: list[bytes]) -> None:
    for chunk in chunks:
        await publisher.ws.send_bytes(chunk)


async def test_early_peer_receives_the_stream_byte_exact(
    server: ServerProcess, session: aiohttp.ClientSession
) -> None:
    # Straight from a recorder: most clusters do not open with a keyframe; Bob gets the
    # same frames re-cut so that every cluster does.
    raw = media.mediarecorder_like(media.sample_webm())
    data = media.relay_shaped(raw)
    alice = await Client.join(session, server.ws_url, "Alice")
    bob = await Client.join(session, server.ws_url, "Bob")
    await alice.ws.send_bytes(b"before media-start: ignored")
    await alice.ws.send_json({"type": "media-start", "mimeType": MIME})
    await bob.wait_until(lambda: bool(bob.of_type("media-start")))
    assert bob.of_type("media-start") == [
        {"type": "media-start", "peerId": alice.id, "mimeType": MIME}
    ]
    await publish(alice, chunks_of(raw, seed=1))
    await bob.wait_until(lambda: bob.count(alice.id) >= len(data))
    assert bob.received(alice.id) == data
    await alice.ws.send_json({"type": "media-stop"})
    await bob.wait_until(lambda: bool(bob.of_type("media-stop")))
    assert alice.binary_frames == 0  # never echoed
    assert not alice.of_type("error")
    await alice.close()
    await bob.close()


async def test_late_joiner_gets_a_decodable_stream_from_a_keyframe(
    server: ServerProcess, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    data, lay = sample()
    syncs = [offset for offset, sync in lay.clusters if sync]
    # Join in the middle of a cluster, well after its keyframe.
    cut = syncs[1] + 30_000
    start = syncs[1]
    alice = await Client.join(session, server.ws_url, "Alice")
    bob = await Client.join(session, server.ws_url, "Bob")
    await alice.ws.send_json({"type": "media-start", "mimeType": MIME})
    await publish(alice, chunks_of(data[:cut], seed=2))
    # Bob holding every complete element before `cut` means the server processed them.
    await bob.wait_until(lambda: bob.count(alice.id) >= cut - 6000)

    carol = await Client.join(session, server.ws_url, "Carol")
    assert carol.welcome["mediaPeers"] == [{"id": alice.id, "mimeType": MIME}]
    await publish(alice, chunks_of(data[cut:], seed=3))
    expected = data[: lay.init_end] + data[start:]
    await carol.wait_until(lambda: carol.count(alice.id) >= len(expected))
    await bob.wait_until(lambda: bob.count(alice.id) >= len(data))
    assert bob.received(alice.id) == data
    received = carol.received(alice.id)
    assert received == expected

    # What a browser's MediaSource gets, a decoder accepts from its first byte.
    path = tmp_path / "late-joiner.webm"
    path.write_bytes(received)
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert frames and frames[0].key_frame
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert len(frames) == len(packets)
    for client in (alice, bob, carol):
        await client.close()


async def test_publisher_leaving_stops_its_media_first(
    server: ServerProcess, session: aiohttp.ClientSession
) -> None:
    data, lay = sample()
    alice = await Client.join(session, server.ws_url, "Alice")
    bob = await Client.join(session, server.ws_url, "Bob")
    await alice.ws.send_json({"type": "media-start", "mimeType": "video/webm; nope"})
    await alice.wait_until(lambda: bool(alice.of_type("error")))
    assert alice.of_type("error") == [{"type": "error", "message": "Invalid media MIME type."}]
    await alice.ws.send_json({"type": "signal", "to": bob.id, "data": {}})
    await alice.wait_until(lambda: len(alice.of_type("error")) == 2)
    assert alice.of_type("error")[1]["message"] == "Signaling is only used in webrtc and sfu modes."
    await alice.ws.send_json({"type": "media-start", "mimeType": MIME})
    await publish(alice, chunks_of(data[: lay.clusters[2][0]], seed=4))
    await bob.wait_until(lambda: bob.count(alice.id) >= lay.clusters[1][0])
    await alice.close()
    await bob.wait_until(lambda: bool(bob.of_type("peer-left")))
    kinds = [
        m["type"] for m in bob.messages if m["type"] in ("media-start", "media-stop", "peer-left")
    ]
    assert kinds == ["media-start", "media-stop", "peer-left"]
    await bob.close()


# --- a client that stops reading ------------------------------------------------------


def raw_join(port: int, name: str) -> socket.socket:
    """Handshake and join by hand, on a socket with a tiny receive buffer that we never read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(WAIT)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = json.dumps({"type": "join", "name": name}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    return sock


class FrameReader(threading.Thread):
    """Reads a raw socket's server frames in the background (our stalled client, awake)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.frames: list[tuple[int, bytes]] = []
        self.changed = threading.Condition()
        self._stopping = False

    def run(self) -> None:
        self.sock.settimeout(0.2)
        pending = b""
        while not self._stopping:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                return
            pending += data
            frames, pending = split_frames(pending)
            if frames:
                with self.changed:
                    self.frames += frames
                    self.changed.notify_all()

    def stop(self) -> None:
        self._stopping = True
        self.join()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        with self.changed:
            while not condition():
                self.changed.wait(0.5)

    def media_starts(self, peer_id: str) -> int:
        return len(self._restarts(peer_id))

    def _restarts(self, peer_id: str) -> list[int]:
        return [
            i
            for i, (opcode, payload) in enumerate(self.frames)
            if opcode == 1
            and json.loads(payload).get("type") == "media-start"
            and json.loads(payload).get("peerId") == peer_id
        ]

    def media_since_restart(self, peer_id: str) -> bytes:
        """Media of `peer_id` after its last media-start."""
        restarts = self._restarts(peer_id)
        frames = self.frames[restarts[-1] + 1 :] if restarts else []
        out = []
        for opcode, payload in frames:
            if opcode == 2:
                sender, chunk = parse_packet(payload)
                if sender == peer_id:
                    out.append(bytes(chunk))
        return b"".join(out)


def split_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Complete unmasked server frames at the start of `data`, and the rest."""
    frames, pos = [], 0
    while len(data) - pos >= 2:
        opcode, length, header = data[pos] & 0x0F, data[pos + 1] & 0x7F, 2
        if length == 126:
            if len(data) - pos < 4:
                break
            (length,), header = struct.unpack_from("!H", data, pos + 2), 4
        elif length == 127:
            if len(data) - pos < 10:
                break
            (length,), header = struct.unpack_from("!Q", data, pos + 2), 10
        if len(data) - pos < header + length:
            break
        frames.append((opcode, data[pos + header : pos + header + length]))
        pos += header + length
    return frames, data[pos:]


def server_rss_kb(server: ServerProcess) -> int:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_stalled_peer_neither_delays_others_nor_grows_server_memory(
    session: aiohttp.ClientSession,
) -> None:
    data, lay = sample()
    init, clusters = data[: lay.init_end], data[lay.init_end :]
    rounds = 150  # ~48 MB of media through the server
    env = {
        "WS_SEND_QUEUE_BYTES": str(1024 * 1024),
        # Far above a real call: this test pushes media as fast as loopback allows.
        "WS_MEDIA_BYTES_PER_SECOND": str(1024 * 1024 * 1024),
    }
    with running_server(env) as server:
        alice = await Client.join(session, server.ws_url, "Alice")
        bob = await Client.join(session, server.ws_url, "Bob")
        stalled = raw_join(server.port, "Stalled")
        await bob.wait_until(lambda: len(bob.of_type("peer-joined")) == 1)
        await alice.ws.send_json({"type": "media-start", "mimeType": MIME})

        sent = bytearray()

        async def send(part: bytes, seed: int) -> None:
            for chunk in chunks_of(part, seed, high=64 * 1024):
                await alice.ws.send_bytes(chunk)
                sent.extend(chunk)
                # Stay at most ~512 KB ahead of Bob, as a real-time source would.
                await bob.wait_until(lambda: len(sent) - bob.count(alice.id) < 512 * 1024)

        await send(init + clusters, seed=0)
        await send(clusters * 4, seed=1)  # warm up: buffers and allocator reach steady state
        baseline = server_rss_kb(server)
        peak = baseline
        for round_number in range(rounds):
            await send(clusters, seed=round_number)
            peak = max(peak, server_rss_kb(server))
        # Each round's timecodes start over, so the relay re-times them (recluster.py).
        expected = media.relay_shaped(bytes(sent))
        await bob.wait_until(lambda: bob.count(alice.id) >= len(expected))
        assert bob.received(alice.id) == expected
        assert len(sent) > 40 * 1024 * 1024
        # The stalled client's backlog is capped at 1 MB; without the cap it would hold
        # all ~48 MB.
        assert peak - baseline < 24 * 1024, (baseline, peak)

        # The stalled client was skipped ahead, not disconnected. Once it reads again,
        # it gets a fresh media-start (rebuild your MediaSource), the init segment and
        # the stream from a sync cluster on, intact to the last byte.
        reader = FrameReader(stalled)
        reader.start()
        # An audio block with a random frame ends this test's stream.
        marker = media.simple_block(2, True, os.urandom(64))
        await send(clusters + marker, seed=rounds)
        expected = media.relay_shaped(bytes(sent))
        await bob.wait_until(lambda: bob.count(alice.id) >= len(expected))
        await asyncio.wait_for(
            asyncio.to_thread(
                reader.wait_for,
                lambda: reader.media_since_restart(alice.id).endswith(marker[-64:]),
            ),
            WAIT,
        )
        reader.stop()
        assert reader.media_starts(alice.id) >= 2
        resumed = reader.media_since_restart(alice.id)
        assert resumed.startswith(init)
        rest = resumed[len(init) :]
        assert expected.endswith(rest)
        # It resumed at a cluster that opens with a keyframe.
        assert media.relay_layout(init + rest, {1}).clusters[0] == (len(init), True)
        stalled.close()
        await alice.close()
        await bob.close()
