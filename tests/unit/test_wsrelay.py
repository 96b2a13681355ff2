"""The WS relay transport with real Outbox objects whose sockets are in-memory lists.

Participants join and leave through RoomLifecycle, the same owner of the order
the socket session uses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import replace
from typing import Any

import pytest

from roomtone.config import ServerConfig, WsRelayConfig
from roomtone.lifecycle import RoomLifecycle
from roomtone.outbox import Outbox
from roomtone.room import Participant, Room
from roomtone.wsrelay import WsRelay
from roomtone.wsrelay.framing import parse_packet
from tests import media

MIME = "video/webm;codecs=vp8,opus"


class FakeSocket:
    """Records what an Outbox sends; `stall()` makes sends hang like an unread TCP socket."""

    def __init__(self) -> None:
        self.events: list[str | bytes] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.events.append(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.gate.wait()
        self.events.append(data)

    async def close(self, code: int, reason: bytes) -> None:
        pass

    def stall(self) -> None:
        self.gate.clear()

    def resume(self) -> None:
        self.gate.set()

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(e) for e in self.events if isinstance(e, str)]
        return [m for m in found if kind is None or m["type"] == kind]

    def media(self, peer_id: str, since_last_media_start: bool = False) -> bytes:
        """Concatenated payloads from `peer_id` (after its last media-start, if asked)."""
        events = self.events
        if since_last_media_start:
            starts = [
                i
                for i, e in enumerate(events)
                if isinstance(e, str)
                and json.loads(e).get("type") == "media-start"
                and json.loads(e).get("peerId") == peer_id
            ]
            events = events[starts[-1] + 1 :] if starts else events
        out = []
        for event in events:
            if isinstance(event, bytes):
                sender, payload = parse_packet(event)
                if sender == peer_id:
                    out.append(bytes(payload))
        return b"".join(out)

    def binary(self) -> list[bytes]:
        return [e for e in self.events if isinstance(e, bytes)]


class Harness:
    """A room, the relay, and participants that join and leave through RoomLifecycle."""

    def __init__(self, config: ServerConfig) -> None:
        self.room = Room(10)
        self.relay = WsRelay(self.room, config)
        self.lifecycle = RoomLifecycle(config, self.room, self.relay)
        self.sockets: dict[str, FakeSocket] = {}

    def join(self, name: str) -> Participant:
        socket = FakeSocket()
        outbox = Outbox(socket.send_text, socket.send_bytes, socket.close)
        outbox.start()
        participant = self.lifecycle.join(name, outbox)
        self.sockets[participant.id] = socket
        return participant

    def leave(self, participant: Participant) -> None:
        self.lifecycle.leave(participant)

    def sock(self, participant: Participant) -> FakeSocket:
        return self.sockets[participant.id]

    async def start(self, participant: Participant, mime: object = MIME) -> None:
        await self.relay.on_message(participant, {"type": "media-start", "mimeType": mime})

    def send(self, participant: Participant, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.relay.on_binary(participant, chunk)

    async def send_paced(self, participant: Participant, chunks: list[bytes]) -> None:
        """Like a real socket: the event loop runs (and writers drain) between chunks."""
        for chunk in chunks:
            self.relay.on_binary(participant, chunk)
            await asyncio.sleep(0)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def config() -> ServerConfig:
    return ServerConfig()


@pytest.fixture
async def harness(config: ServerConfig) -> Harness:
    return Harness(config)


def stream_and_layout() -> tuple[bytes, media.Layout]:
    """A stream already in the relay's shape (every cluster opens at a keyframe), so what
    recipients get is byte-exact with it; see the test of the reshaping below."""
    data = media.relay_shaped(media.mediarecorder_like(media.sample_webm()))
    return data, media.relay_layout(data, {1})


def chunks_of(data: bytes, seed: int = 1) -> list[bytes]:
    return media.random_chunks(data, random.Random(seed), 1, 9000)


async def test_media_start_is_announced_and_listed_for_newcomers(harness: Harness) -> None:
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    await settle()
    assert harness.sock(bob).messages("media-start") == [
        {"type": "media-start", "peerId": alice.id, "mimeType": MIME}
    ]
    assert harness.sock(alice).messages("media-start") == []
    assert harness.relay.welcome_fields(alice) == {"mediaPeers": []}
    carol = harness.join("Carol")
    await settle()
    welcome = harness.sock(carol).messages("welcome")[0]
    assert welcome["mediaPeers"] == [{"id": alice.id, "mimeType": MIME}]


@pytest.mark.parametrize(
    "mime",
    [
        None,
        5,
        "",
        "video",
        "video/",
        "/webm",
        "video/webm;",
        "video webm",
        "video/webm;codecs",
        "video/webm\n",
        "video/webm;codecs=" + "a" * 120,
        'video/webm;codecs="vp8',
    ],
)
async def test_invalid_mime_is_refused(harness: Harness, mime: object) -> None:
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice, mime)
    await settle()
    assert harness.sock(alice).messages("error") == [
        {"type": "error", "message": "Invalid media MIME type."}
    ]
    assert harness.sock(bob).messages("media-start") == []
    assert harness.relay.welcome_fields(bob) == {"mediaPeers": []}


@pytest.mark.parametrize(
    "mime",
    ["video/webm", MIME, 'video/webm; codecs="vp8, opus"', "audio/webm;codecs=opus", "video/mp4"],
)
async def test_valid_mime_is_accepted(harness: Harness, mime: str) -> None:
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice, mime)
    await settle()
    assert harness.sock(bob).messages("media-start")[0]["mimeType"] == mime
    assert harness.sock(alice).messages("error") == []


def test_signal_is_not_a_ws_message(harness: Harness) -> None:
    # Signaling answers it with "Signaling is only used in webrtc and sfu modes."
    # (tests/integration/test_wsrelay.py checks that over a real socket).
    assert "signal" not in harness.relay.messages
    assert harness.relay.messages == {"media-start", "media-stop"}


async def test_early_subscriber_gets_every_byte_and_the_sender_none(harness: Harness) -> None:
    data, _ = stream_and_layout()
    alice, bob, carol = harness.join("Alice"), harness.join("Bob"), harness.join("Carol")
    harness.send(alice, [data[:100]])  # before media-start: ignored
    harness.relay.on_binary(alice, b"")
    await harness.start(alice)
    harness.send(alice, chunks_of(data))
    await settle()
    assert harness.sock(bob).media(alice.id) == data
    assert harness.sock(carol).media(alice.id) == data
    assert harness.sock(alice).binary() == []
    # The same packet objects went to every recipient: framed once.
    for mine, theirs in zip(harness.sock(bob).binary(), harness.sock(carol).binary(), strict=True):
        assert mine is theirs


async def test_recipients_get_clusters_that_open_at_keyframes(harness: Harness) -> None:
    """A MediaRecorder stream whose clusters mostly do not start at a keyframe reaches
    every recipient re-cut: the same frames at the same times, every cluster a sync point."""
    raw = media.mediarecorder_like(media.sample_webm())
    assert not all(sync for _, sync in media.unknown_size_layout(media.sample_webm()).clusters)
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.send(alice, chunks_of(raw))
    await settle()
    got = harness.sock(bob).media(alice.id)
    assert got == media.relay_shaped(raw)
    _, sent = media.unknown_size_clusters(raw)
    _, received = media.unknown_size_clusters(got)
    blocks_of = lambda clusters: [b for _, blocks in clusters for b in blocks]  # noqa: E731
    assert blocks_of(received) == blocks_of(sent)
    assert all(sync for _, sync in media.relay_layout(got, {1}).clusters)


async def test_late_joiner_starts_at_the_latest_sync_cluster(harness: Harness) -> None:
    data, lay = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    # Stop in the middle of the second sync cluster.
    syncs = [offset for offset, sync in lay.clusters if sync]
    cut = syncs[1] + 30_000
    harness.send(alice, chunks_of(data[:cut]))
    await settle()
    carol = harness.join("Carol")
    await settle()
    # Carol got the init segment and the history at once, after her welcome.
    assert isinstance(harness.sock(carol).events[0], str)
    got = harness.sock(carol).media(alice.id)
    init = data[: lay.init_end]
    assert got.startswith(init)
    assert data[syncs[1] :].startswith(got[len(init) :])
    assert len(got) > len(init) + 20_000
    harness.send(alice, chunks_of(data[cut:], seed=2))
    await settle()
    assert harness.sock(carol).media(alice.id) == init + data[syncs[1] :]
    assert harness.sock(bob).media(alice.id) == data


@pytest.mark.parametrize("one_chunk", [False, True])
async def test_joiner_before_any_sync_point_waits_for_one(
    harness: Harness, one_chunk: bool
) -> None:
    data, lay = stream_and_layout()
    alice = harness.join("Alice")
    await harness.start(alice)
    harness.send(alice, [data[: lay.init_end - 10]])  # part of the init segment
    bob = harness.join("Bob")
    await settle()
    assert harness.sock(bob).media(alice.id) == b""
    rest = data[lay.init_end - 10 :]
    # One chunk holding many clusters: Bob is caught up at the first one, mid-chunk.
    harness.send(alice, [rest] if one_chunk else chunks_of(rest))
    await settle()
    # The first cluster is a sync point: Bob missed nothing.
    assert harness.sock(bob).media(alice.id) == data


async def test_joiner_before_any_byte_is_live(harness: Harness) -> None:
    data, _ = stream_and_layout()
    alice = harness.join("Alice")
    await harness.start(alice)
    bob = harness.join("Bob")
    harness.send(alice, chunks_of(data))
    await settle()
    assert harness.sock(bob).media(alice.id) == data


@pytest.mark.parametrize(
    "config", [replace(ServerConfig(), wsrelay=WsRelayConfig(cache_bytes=20_000))]
)
async def test_joiner_when_history_is_too_big_waits_for_next_sync(harness: Harness) -> None:
    data, lay = stream_and_layout()
    alice = harness.join("Alice")
    await harness.start(alice)
    syncs = [offset for offset, sync in lay.clusters if sync]
    harness.send(alice, chunks_of(data[: syncs[1] - 100]))  # clusters are ~30 KB: no history
    carol = harness.join("Carol")
    await settle()
    assert harness.sock(carol).media(alice.id) == b""
    harness.send(alice, chunks_of(data[syncs[1] - 100 :]))
    await settle()
    # Carol starts with the next sync cluster, even though that cluster later outgrows
    # the history bound: she was caught up the moment its keyframe arrived.
    assert harness.sock(carol).media(alice.id) == data[: lay.init_end] + data[syncs[1] :]
    assert not harness.relay.fanout.publications[alice.id].stream.ready


@pytest.mark.parametrize("config", [replace(ServerConfig(), ws_max_payload=1024)])
async def test_packets_never_exceed_ws_max_payload(harness: Harness) -> None:
    data, lay = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.send(alice, chunks_of(data[: len(data) // 2]))
    carol = harness.join("Carol")
    harness.send(alice, chunks_of(data[len(data) // 2 :]))
    await settle()
    for sock in (harness.sock(bob), harness.sock(carol)):
        assert sock.binary() and all(len(p) <= 1024 for p in sock.binary())
    assert harness.sock(bob).media(alice.id) == data
    assert harness.sock(carol).media(alice.id).startswith(data[: lay.init_end])


@pytest.mark.parametrize(
    "config", [replace(ServerConfig(), wsrelay=WsRelayConfig(queue_bytes=64 * 1024))]
)
async def test_stalled_recipient_skips_ahead_without_delaying_others(harness: Harness) -> None:
    data, lay = stream_and_layout()
    alice, bob, slow = harness.join("Alice"), harness.join("Bob"), harness.join("Slow")
    await harness.start(alice)
    await settle()
    harness.sock(slow).stall()
    largest = 0
    for chunk in chunks_of(data):
        harness.relay.on_binary(alice, chunk)
        largest = max(largest, len(chunk) + 64)
        # The stalled recipient's queue stays within its bound (plus one batch into an empty queue).
        assert slow.outbox.media_bytes() <= 64 * 1024 + largest
        await asyncio.sleep(0)
    await settle()
    assert harness.sock(bob).media(alice.id) == data
    # Once it reads again, it is back at the next sync point: a second pass of clusters.
    # (That it skipped ahead at least once shows as its second media-start, below.)
    harness.sock(slow).resume()
    await settle()
    await harness.send_paced(alice, chunks_of(data[lay.init_end :], seed=4))
    await settle()
    # The second pass's timecodes start over: re-timed into the open cluster until a keyframe.
    full = media.relay_shaped(data + data[lay.init_end :])
    assert harness.sock(bob).media(alice.id) == full
    restarts = harness.sock(slow).messages("media-start")
    assert len(restarts) >= 2 and restarts[-1] == {
        "type": "media-start",
        "peerId": alice.id,
        "mimeType": MIME,
    }
    # After its last media-start it got init + a sync cluster onward, all of it.
    resumed = harness.sock(slow).media(alice.id, since_last_media_start=True)
    init = data[: lay.init_end]
    candidates = [full] + [
        init + full[offset:] for offset, sync in media.relay_layout(full, {1}).clusters if sync
    ]
    assert resumed in candidates


async def test_restart_sends_the_new_stream_from_its_first_byte(harness: Harness) -> None:
    data, lay = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.send(alice, chunks_of(data[: lay.clusters[1][0] + 500]))
    carol = harness.join("Carol")  # late: caught up from the history of the first stream
    await harness.start(alice, "video/webm")
    harness.send(alice, chunks_of(data, seed=3))
    await settle()
    for sock in (harness.sock(bob), harness.sock(carol)):
        assert sock.messages("media-start")[-1]["mimeType"] == "video/webm"
        assert sock.media(alice.id, since_last_media_start=True) == data


async def test_restart_keeps_what_is_queued_of_the_old_stream(harness: Harness) -> None:
    """A viewer that splices the new stream on plays the old one to its end: the restart
    sends the new media-start after everything queued of the old stream, nothing dropped."""
    data, lay = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.sock(bob).stall()
    old = data[: lay.clusters[2][0]]
    harness.send(alice, chunks_of(old))
    await harness.start(alice)
    harness.send(alice, chunks_of(data, seed=5))
    harness.sock(bob).resume()
    await settle()
    sock = harness.sock(bob)
    assert sock.media(alice.id) == old + data
    assert sock.media(alice.id, since_last_media_start=True) == data
    assert len(sock.messages("media-start")) == 2


async def test_media_stop_and_leave(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    data, _ = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.send(alice, [data[:5000]])
    await harness.relay.on_message(alice, {"type": "media-stop"})
    await harness.relay.on_message(alice, {"type": "media-stop"})  # not streaming: ignored
    harness.send(alice, [data[5000:]])
    await settle()
    assert harness.sock(bob).messages("media-stop") == [{"type": "media-stop", "peerId": alice.id}]
    assert harness.relay.welcome_fields(bob) == {"mediaPeers": []}
    received = len(harness.sock(bob).media(alice.id))
    assert received <= 5000
    # A publisher leaving: media-stop first (peer-left follows from signaling).
    await harness.start(alice)
    harness.leave(alice)
    await settle()
    types = [m["type"] for m in harness.sock(bob).messages()]
    assert types[-3:] == ["media-start", "media-stop", "peer-left"]
    assert harness.relay.fanout.publications == {}
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [(e["event"], e["id"]) for e in events]
    assert kinds == [
        ("joined", alice.id),
        ("joined", bob.id),
        ("media_start", alice.id),
        ("media_stop", alice.id),
        ("media_start", alice.id),
        ("media_stop", alice.id),
        ("left", alice.id),
    ]


async def test_recipient_leaving_is_forgotten(harness: Harness) -> None:
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.leave(bob)
    assert harness.relay.fanout.publications[alice.id].subscriptions == {}
    await harness.relay.close()
    assert harness.relay.fanout.publications == {}


async def test_garbage_is_ignored_until_the_next_media_start(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    data, _ = stream_and_layout()
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    with caplog.at_level(logging.WARNING, logger="roomtone.wsrelay"):
        harness.send(alice, [b"\x00garbage" * 100, data[:1000], b"more garbage"])
    assert len([r for r in caplog.records if "ignoring the media" in r.getMessage()]) == 1
    await harness.start(alice)
    harness.send(alice, chunks_of(data))
    await settle()
    assert harness.sock(bob).media(alice.id, since_last_media_start=True) == data
