"""`webrtc` mode end to end: two real aiortc peers negotiate through the server's
signal relay (offer from the existing peer on `peer-joined`, as browsers do) and
then exchange audio and video directly.
"""

from __future__ import annotations

import asyncio

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from tests.serverproc import running_server
from tests.wsclient import ProtocolClient


async def count_frames(track, counts: dict[str, int]) -> None:
    while True:
        try:
            await track.recv()
        except Exception:
            return
        counts[track.kind] = counts.get(track.kind, 0) + 1


class MeshPeer:
    def __init__(self, client: ProtocolClient) -> None:
        self.client = client
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no public STUN
        self.counts: dict[str, int] = {}
        self.tasks: list[asyncio.Task] = []
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())

        @self.pc.on("track")
        def on_track(track) -> None:
            self.tasks.append(asyncio.ensure_future(count_frames(track, self.counts)))

    async def offer_to(self, peer_id: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        description = {"type": self.pc.localDescription.type, "sdp": self.pc.localDescription.sdp}
        await self.client.send(
            {"type": "signal", "to": peer_id, "data": {"description": description}}
        )

    async def handle_signal(self, message: dict) -> None:
        description = message["data"].get("description")
        if description is None:
            return  # aiortc puts every candidate in the SDP; trickled ones are not needed here
        await self.pc.setRemoteDescription(RTCSessionDescription(**description))
        if description["type"] == "offer":
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            answer = {"type": "answer", "sdp": self.pc.localDescription.sdp}
            await self.client.send(
                {"type": "signal", "to": message["from"], "data": {"description": answer}}
            )

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()
        await self.client.close()


async def test_two_aiortc_peers_exchange_media_via_signal_relay():
    with running_server({"MEDIA_TRANSPORT": "webrtc"}) as server:
        alice = MeshPeer(await ProtocolClient.connect(server.ws_url))
        bob = MeshPeer(await ProtocolClient.connect(server.ws_url))
        try:
            await alice.client.join("Alice")
            await bob.client.join("Bob")
            joined = await alice.client.expect("peer-joined")
            await alice.offer_to(joined["peer"]["id"])
            await bob.handle_signal(await bob.client.expect("signal", timeout=15))
            answer = await alice.client.expect("signal", timeout=15)
            assert answer["from"] == bob.client.id
            await alice.handle_signal(answer)
            for _ in range(200):
                if all(p.counts.get(k, 0) >= 20 for p in (alice, bob) for k in ("audio", "video")):
                    break
                await asyncio.sleep(0.1)
            for peer in (alice, bob):
                assert peer.counts.get("video", 0) >= 20, peer.counts
                assert peer.counts.get("audio", 0) >= 20, peer.counts
        finally:
            await alice.close()
            await bob.close()
