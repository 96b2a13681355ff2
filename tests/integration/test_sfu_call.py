"""SFU mode end to end: a real server subprocess and aiortc participants that publish
pre-encoded VP8 + Opus. The server is `roomtone serve` with every codec factory
made to raise (tests/codecfree.py), so any decoder or encoder it tried to open
would raise and be logged: media arriving at every participant proves it
forwards without transcoding.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from tests.serverproc import ServerProcess
from tests.sfupeer import SfuPeer, codec_free_sfu_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with codec_free_sfu_server() as server:
        yield server


def flowing(receiver: SfuPeer, senders: list[SfuPeer], frames: int = 10) -> bool:
    return all(
        receiver.received(sender.id, kind) >= frames
        for sender in senders
        if sender is not receiver
        for kind in ("audio", "video")
    )


async def wait_all_flowing(peers: list[SfuPeer], timeout: float = 20.0) -> None:
    await asyncio.gather(*(p.wait_for(lambda p=p: flowing(p, peers), timeout) for p in peers))


async def close_all(peers: list[SfuPeer]) -> None:
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)


async def test_three_participants_one_late_get_everything(server: ServerProcess) -> None:
    alice = await SfuPeer(server.ws_url, "Alice").join()
    # Bob numbers payload types and extensions like Chrome, not like aiortc.
    bob = await SfuPeer(server.ws_url, "Bob", browser_numbering=True).join()
    peers = [alice, bob]
    try:
        await wait_all_flowing(peers)
        carol = await SfuPeer(server.ws_url, "Carol").join()
        peers.append(carol)
        await wait_all_flowing(peers)

        def snapshot() -> dict[tuple[str, str, str], int]:
            return {
                (r.id, s.id, kind): r.received(s.id, kind)
                for r in peers
                for s in peers
                if s is not r
                for kind in ("audio", "video")
            }

        def sent() -> dict[tuple[str, str], int]:
            return {(p.id, t.kind): t.sent for p in peers for t in p.tracks}

        before, sent_before = snapshot(), sent()
        await asyncio.sleep(3)
        after, sent_after = snapshot(), sent()
        for (receiver_id, sender_id, kind), count in after.items():
            published = sent_after[sender_id, kind] - sent_before[sender_id, kind]
            got = count - before[receiver_id, sender_id, kind]
            assert published > 0
            assert got >= 0.5 * published, (receiver_id, sender_id, kind, got, published)
        for peer in peers:
            assert peer.errors == [] and peer.failures == []
            assert set(peer.inbox.sizes.values()) == {(320, 240)}
            assert len(peer.inbox.sizes) == 2
            # The server never forwards a delta frame before a subscriber's first keyframe.
            assert all(peer.inbox.first_video_keyframe.values())
            # The clips hold one keyframe per 5 s loop: the others come from PLIs.
            video = next(t for t in peer.tracks if t.kind == "video")
            assert video.keyframe_requests >= 1
        for offer in bob.offers:
            sdp = offer["description"]["sdp"]
            assert re.findall(r"a=rtpmap:(\d+) opus/", sdp) == ["111"] * sdp.count("m=audio")
            assert re.findall(r"a=rtpmap:(\d+) VP8/", sdp) == ["96"] * sdp.count("m=video")
            assert set(re.findall(r"a=extmap:(\d+) urn:ietf:params:rtp-hdrext:sdes:mid", sdp)) == {
                "4"
            }
    finally:
        await close_all(peers)


async def test_a_leaver_disappears_from_the_others_offers(server: ServerProcess) -> None:
    peers = [await SfuPeer(server.ws_url, name).join() for name in ("Ann", "Ben", "Cat")]
    ann, ben, cat = peers
    try:
        await wait_all_flowing(peers)
        offers = {p.id: len(p.offers) for p in (ann, ben)}
        mlines = {p.id: p.offers[-1]["description"]["sdp"].count("m=") for p in (ann, ben)}
        await cat.close()
        for peer in (ann, ben):
            await peer.wait_for(
                lambda p=peer: (
                    len(p.offers) > offers[p.id]
                    and cat.id not in {t["peerId"] for t in p.current_tracks()}
                )
            )
            assert {t["peerId"] for t in peer.current_tracks()} == {ann.id, ben.id} - {peer.id}
            assert any(m == {"type": "peer-left", "peerId": cat.id} for m in peer.messages)
        # A newcomer reuses the m-lines the leaver freed: SDP does not grow.
        dan = await SfuPeer(server.ws_url, "Dan").join()
        peers.append(dan)
        await wait_all_flowing([ann, ben, dan])
        for peer in (ann, ben):
            assert peer.offers[-1]["description"]["sdp"].count("m=") == mlines[peer.id]
            kinds = sorted(t["kind"] for t in peer.current_tracks() if t["peerId"] == dan.id)
            assert kinds == ["audio", "video"]
    finally:
        await close_all(peers)


async def test_a_receive_only_participant_gets_media(server: ServerProcess) -> None:
    sender = await SfuPeer(server.ws_url, "Speaker").join()
    viewer = await SfuPeer(server.ws_url, "Viewer").join(publish=False)
    try:
        await viewer.wait_for(lambda: flowing(viewer, [sender]))
        assert sender.received(viewer.id, "video") == 0
        assert viewer.errors == [] and sender.errors == []
    finally:
        await close_all([sender, viewer])


async def test_signal_errors(server: ServerProcess) -> None:
    peer = await SfuPeer(server.ws_url, "Eve").join(publish=False, offer=False)
    try:
        await peer.send({"type": "signal", "to": "someone-else", "data": {}})
        await peer.wait_for(lambda: "Peer is no longer available." in peer.errors)
        await peer.send({"type": "media-start", "mimeType": "video/webm"})
        await peer.wait_for(lambda: len(peer.errors) == 2)
        for data in ("nope", {}, {"description": {"type": "pranswer", "sdp": ""}}):
            await peer.send({"type": "signal", "to": "sfu", "data": data})
        await peer.wait_for(lambda: peer.errors[2:] == ["Invalid signal message."] * 3)
        broken = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"  # no ICE credentials
        await peer.signal({"description": {"type": "offer", "sdp": broken}})
        await peer.wait_for(lambda: len(peer.errors) == 6)
        await peer.signal({"candidate": {"candidate": "candidate:garbage"}})
        await peer.wait_for(lambda: len(peer.errors) == 7)
        # The session recovers: a proper offer afterwards still gets an answer.
        await peer.send_offer()
        await peer.wait_for(lambda: len(peer.answers) == 1)
        assert peer.failures == []
    finally:
        await peer.close()


async def test_glare_the_server_offer_wins_and_the_client_offers_again(
    server: ServerProcess,
) -> None:
    alice = await SfuPeer(server.ws_url, "Alice").join()
    first_offer = alice.pc.localDescription.sdp
    await alice.wait_for(lambda: len(alice.answers) == 1)
    alice.hold_offers = True
    bob = await SfuPeer(server.ws_url, "Bob").join()
    try:
        await alice.wait_for(lambda: alice.held)  # the server offers Bob's tracks…
        # …while Alice offers too (a browser adding a track at that moment).
        await alice.signal({"description": {"type": "offer", "sdp": first_offer}})
        await asyncio.sleep(0.5)
        assert len(alice.answers) == 1 and alice.errors == []  # dropped: server is impolite
        alice.hold_offers = False
        await alice.answer(alice.held.pop())  # the polite client answers the server's offer
        await alice.wait_for(lambda: flowing(alice, [bob]))
        await alice.send_offer()  # …and offers again once stable
        await alice.wait_for(lambda: len(alice.answers) == 2)
        await wait_all_flowing([alice, bob])
        assert alice.errors == [] and alice.failures == []
    finally:
        await close_all([alice, bob])
