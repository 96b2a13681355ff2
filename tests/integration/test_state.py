"""Participant state over real sockets against the real server: relay, late joiners,
validation, one screen at a time, the rate limit; and in sfu mode the `screen` label
of a client m-line reaching the other participants' `tracks`."""

from __future__ import annotations

import asyncio

import pytest

from tests.serverproc import running_server
from tests.sfupeer import SfuPeer, audio_clip, codec_free_sfu_server, video_clip
from tests.wsclient import ProtocolClient

INVALID_STATE = "Invalid state message."
SCREEN_TAKEN = "Someone else is already sharing a screen."
FULL = {"mic": True, "camera": True, "screen": False, "speaking": False, "quality": None}


@pytest.fixture(scope="module", params=["ws", "webrtc"])
def server(request):
    with running_server({"MEDIA_TRANSPORT": request.param}) as server:
        yield server


@pytest.fixture
async def connect(server):
    clients: list[ProtocolClient] = []

    async def _connect(name: str) -> ProtocolClient:
        client = await ProtocolClient.connect(server.ws_url)
        clients.append(client)
        await client.join(name)
        return client

    yield _connect
    for client in clients:
        await client.close()
    await asyncio.sleep(0.1)  # let the server process the leaves before the next test


async def nothing_more(client: ProtocolClient, kind: str, wait: float = 0.3) -> None:
    """No message of `kind` arrives within `wait` seconds."""
    with pytest.raises(TimeoutError):
        await client.expect(kind, timeout=wait)


async def test_state_is_relayed_and_late_joiners_find_it(server, connect):
    ann = await connect("Ann")
    ben = await connect("Ben")
    await ann.send({"type": "state", "mic": False, "speaking": False, "quality": "good"})
    relayed = await ben.expect("state")
    assert relayed == {"type": "state", "peerId": ann.id, **FULL, "mic": False, "quality": "good"}
    await nothing_more(ann, "state")  # never echoed to the sender
    # A partial update keeps the rest; one that changes nothing is not relayed.
    await ann.send({"type": "state", "speaking": True})
    assert (await ben.expect("state"))["speaking"] is True
    await ann.send({"type": "state", "speaking": True, "future-field": 1})
    await nothing_more(ben, "state")
    # A late joiner finds Ann's state in welcome; Ben never reported, so he has none.
    cat = await ProtocolClient.connect(server.ws_url)
    try:
        welcome = await cat.join("Cat")
        entries = {p["id"]: p for p in welcome["participants"]}
        assert entries[ann.id] == {
            "id": ann.id,
            "name": "Ann",
            "state": {**FULL, "mic": False, "speaking": True, "quality": "good"},
        }
        assert entries[ben.id] == {"id": ben.id, "name": "Ben"}
    finally:
        await cat.close()


async def test_malformed_state_is_refused_and_changes_nothing(server, connect):
    ann = await connect("Ann")
    ben = await connect("Ben")
    for bad in ({"mic": "off"}, {"speaking": 1}, {"quality": "excellent"}, {"screen": None}):
        await ann.send({"type": "state", "camera": False, **bad})
        assert (await ann.expect("error"))["message"] == INVALID_STATE
    await nothing_more(ben, "state")
    stranger = await ProtocolClient.connect(server.ws_url)
    try:
        await stranger.send({"type": "state", "mic": False})
        assert (await stranger.expect("error"))["message"] == "Join first."
    finally:
        await stranger.close()


async def test_one_screen_at_a_time_and_leaving_frees_it(connect):
    ann = await connect("Ann")
    ben = await connect("Ben")
    await ann.send({"type": "state", "screen": True})
    assert (await ben.expect("state"))["screen"] is True
    await ben.send({"type": "state", "screen": True, "mic": False})
    assert (await ben.expect("error"))["message"] == SCREEN_TAKEN
    relayed = await ann.expect("state")  # the rest of Ben's message applied
    assert relayed["peerId"] == ben.id and relayed["mic"] is False and relayed["screen"] is False
    await ann.close()
    await ben.expect("peer-left")
    await ben.send({"type": "state", "screen": True})
    await nothing_more(ben, "error")


async def test_state_messages_count_towards_the_rate_limit(connect):
    ann = await connect("Ann")
    for i in range(260):  # the burst allows four seconds' worth of 50/s
        await ann.send({"type": "state", "speaking": i % 2 == 0})
    message = await ann.expect("error")
    assert message["message"] == "Too many messages; slow down."


@pytest.mark.slow
async def test_sfu_passes_on_the_screen_label_of_an_m_line():
    with codec_free_sfu_server() as server:
        ann = SfuPeer(server.ws_url, "Ann", clips=(audio_clip(), video_clip(), video_clip()))
        ben = SfuPeer(server.ws_url, "Ben")
        try:
            await ann.join(offer=False)
            await ben.join(publish=False)
            offer = await ann.pc.createOffer()
            await ann.pc.setLocalDescription(offer)
            screen_mid = ann.pc.getTransceivers()[2].mid
            await ann.signal(
                {
                    "description": {"type": "offer", "sdp": ann.pc.localDescription.sdp},
                    "tracks": [{"mid": screen_mid, "kind": "video", "source": "screen"}],
                }
            )

            def labelled() -> bool:
                tracks = [t for t in ben.current_tracks() if t["peerId"] == ann.id]
                return len(tracks) == 3

            await ben.wait_for(labelled)
            sources = sorted((t["kind"], t.get("source", "")) for t in ben.current_tracks())
            assert sources == [("audio", ""), ("video", ""), ("video", "screen")]
        finally:
            await asyncio.gather(ann.close(), ben.close(), return_exceptions=True)
