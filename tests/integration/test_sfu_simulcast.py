"""Simulcast in SFU mode: three rid layers in, one layer per subscriber line out.

A SimulcastPeer (tests/simulcastpeer.py) publishes the VP8 layers q, h and f
as a browser does; aiortc SfuPeers subscribe. The server runs in this
process with every codec factory raising, so the tests can fix each
subscriber's budget (the allocation's input) and read its downlink, and a
decoder or encoder anywhere would fail them. Received frames are compared
byte for byte with the layers' clips (by digest), so a test can tell which
layer every frame came from and whether a switch happened at a keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator
from itertools import pairwise
from typing import Any

import pytest
from aiohttp import web

from roomtone.app import create_app
from roomtone.config import ServerConfig, load_server_config
from roomtone.room import Room
from roomtone.sfu import SfuTransport, uplink
from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.endpoint import Endpoint
from tests.sfupeer import SfuPeer, audio_clip, video_clip
from tests.simulcastpeer import SimulcastPeer

pytestmark = pytest.mark.slow

# Video budgets (bits/s) against the layers as measured: q ≈ 50k, h ≈ 140k, f ≈ 650k.
TOP, MIDDLE, LOW, NOTHING = 5_000_000, 300_000, 100_000, 10_000


@contextlib.asynccontextmanager
async def sfu_server() -> AsyncIterator[tuple[str, SfuTransport]]:
    """An in-process sfu server whose codec factories raise; yields its URL and transport."""
    for clip in (audio_clip(), video_clip()):
        assert clip.frames  # encoded (and cached) before codecs are forbidden
    SimulcastPeer.prepare_clips()
    restore = adapter.forbid_codecs()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = load_server_config({"MEDIA_TRANSPORT": "sfu", "HOST": "127.0.0.1", "PORT": str(port)})
    made: list[SfuTransport] = []

    def factory(config: ServerConfig, room: Room) -> SfuTransport:
        made.append(SfuTransport(room, config))
        return made[0]

    runner = web.AppRunner(create_app(config, factory), shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    errors = _ErrorLog()
    logging.getLogger("roomtone").addHandler(errors)
    try:
        yield f"ws://127.0.0.1:{port}/ws", made[0]
    finally:
        await runner.cleanup()
        restore()
        logging.getLogger("roomtone").removeHandler(errors)
    assert errors.records == [], errors.records[:3]


class _ErrorLog(logging.Handler):
    """Errors the server logged (a failed packet path or timer shows up here, not as a crash)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


def endpoint(transport: SfuTransport, peer: SfuPeer) -> Endpoint:
    media = transport.sessions[peer.id].connection
    assert isinstance(media, Endpoint)
    return media


def set_budget(transport: SfuTransport, peer: SfuPeer, budget: float | None) -> None:
    endpoint(transport, peer).downlink.fixed_budget = budget


def layer_of(publisher: SimulcastPeer) -> dict[bytes, tuple[str, int, bool]]:
    """Frame digest → (rid, index in the clip, keyframe), over every layer."""
    return {
        digest: (layer.rid, index, key)
        for layer in publisher.layers
        for digest, (index, key) in layer.digests().items()
    }


def frames_from(viewer: SfuPeer, publisher: SimulcastPeer) -> list[tuple[str, int, bool]]:
    table = layer_of(publisher)
    digests = viewer.inbox.video_digests.get(publisher.id, [])
    unknown = [d for d in digests if d not in table]
    assert not unknown, f"{len(unknown)} frames match no layer byte for byte"
    return [table[d] for d in digests]


def current_rid(viewer: SfuPeer, publisher: SimulcastPeer) -> str | None:
    frames = frames_from(viewer, publisher)
    return frames[-1][0] if frames else None


async def wait_rid(viewer: SfuPeer, publisher: SimulcastPeer, rid: str, frames: int = 10) -> None:
    def there() -> bool:
        got = frames_from(viewer, publisher)
        return len(got) >= frames and all(r == rid for r, _, _ in got[-frames:])

    await viewer.wait_for(there, 20)


def video_mid(viewer: SfuPeer, publisher: SfuPeer) -> str:
    return next(
        t["mid"]
        for t in viewer.current_tracks()
        if t["peerId"] == publisher.id and t["kind"] == "video"
    )


async def started(
    url: str, *viewer_names: str, **publisher_options: Any
) -> tuple[SimulcastPeer, list[SfuPeer]]:
    publisher = await SimulcastPeer(url, "Simulcaster", **publisher_options).join()
    viewers = [await SfuPeer(url, name).join(publish=False) for name in viewer_names]
    for viewer in viewers:
        await viewer.wait_for(lambda v=viewer: v.received(publisher.id, "video") >= 5, 20)
    return publisher, viewers


async def close_all(*peers: SfuPeer) -> None:
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)


# --- the tests -------------------------------------------------------------------------------


async def test_the_answer_receives_every_layer_and_each_is_forwarded_separately() -> None:
    async with sfu_server() as (url, transport):
        publisher, viewers = await started(url, "Low", "Middle", "Top")
        low, middle, top = viewers
        try:
            answer = publisher.answers[0]
            for line in ("a=rid:q recv", "a=rid:h recv", "a=rid:f recv", "a=simulcast:recv q;h;f"):
                assert line in answer, line
            assert "rtp-stream-id" in answer and "repaired-rtp-stream-id" in answer
            for viewer, budget in ((low, LOW), (middle, MIDDLE), (top, TOP)):
                set_budget(transport, viewer, budget)
            for viewer, rid in ((low, "q"), (middle, "h"), (top, "f")):
                await wait_rid(viewer, publisher, rid, frames=30)
            sizes = {v.name: v.inbox.sizes[publisher.id] for v in viewers}
            assert sizes == {"Low": (80, 60), "Middle": (160, 120), "Top": (320, 240)}
            # Every frame any viewer got is one of the publisher's frames, byte for byte
            # (frames_from fails otherwise), and each starts at a keyframe.
            for viewer in viewers:
                assert frames_from(viewer, publisher)[0][2], "first frame is a keyframe"
                assert viewer.errors == [] and viewer.failures == []
            # Only the SSRCs of the server's lines reach the viewers: one video SSRC each.
            wanted = endpoint(transport, publisher).uplink.feeds[1].wanted()
            assert sorted(wanted) == ["f", "h", "q"]
        finally:
            await close_all(publisher, *viewers)


class VideoLog:
    """The sequence number, timestamp and VP8 PictureID (first packets) a viewer gets on a mid."""

    def __init__(self, viewer: SfuPeer, mid: str) -> None:
        transceiver = next(t for t in viewer.pc.getTransceivers() if t.mid == mid)
        self.pt = next(c.payloadType for c in transceiver._codecs if c.mimeType == "video/VP8")
        self.packets: list[tuple[int, int, int | None]] = []
        self.ssrcs: set[int] = set()
        dtls = transceiver.receiver.transport
        received = dtls._handle_rtp_data

        async def handle(data: bytes, arrival_time_ms: int) -> None:
            if data[1] & 0x7F == self.pt:
                self._log(data)
            await received(data, arrival_time_ms=arrival_time_ms)

        dtls._handle_rtp_data = handle

    def _log(self, data: bytes) -> None:
        seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
        self.ssrcs.add(ssrc)
        offset = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:
            offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
        pid = None
        if len(data) > offset + 3 and data[offset] & 0x17 == 0x10 and data[offset + 1] & 0x80:
            pid = struct.unpack_from("!H", data, offset + 2)[0] & 0x7FFF
        self.packets.append((seq, ts, pid))

    def assert_continuous(self, pause: float = 0.0) -> None:
        """No jump in sequence numbers, timestamps or PictureIDs, whatever was switched.

        Timestamps move on with the time that passed: one step may be as long as `pause`.
        """
        assert len(self.ssrcs) == 1, self.ssrcs
        pairs = list(pairwise(self.packets))
        steps = [(b[0] - a[0]) % 65536 for a, b in pairs]
        assert all(1 <= s <= 3 for s in steps), sorted(set(steps))  # ≤ 2 lost, never a jump
        ts_steps = [(b[1] - a[1]) % (1 << 32) for a, b in pairs]
        long = [s for s in ts_steps if s >= 90_000]  # forward; a second at most but across a pause
        assert len(long) <= (1 if pause else 0), long
        assert all(s < (pause + 1) * 90_000 for s in long), (long, pause)
        pids = [p for _, _, p in self.packets if p is not None]
        pid_steps = {(b - a) % 32768 for a, b in pairwise(pids)}
        assert pid_steps <= {1, 2, 3}, pid_steps


async def test_switches_happen_only_at_keyframes_and_the_line_stays_continuous() -> None:
    async with sfu_server() as (url, transport):
        publisher, (viewer,) = await started(url, "Switcher")
        try:
            log = VideoLog(viewer, video_mid(viewer, publisher))
            for budget, rid in ((TOP, "f"), (LOW, "q"), (MIDDLE, "h"), (TOP, "f"), (LOW, "q")):
                set_budget(transport, viewer, budget)
                await wait_rid(viewer, publisher, rid, frames=15)
            frames = frames_from(viewer, publisher)
            switches = [b for a, b in pairwise(frames) if a[0] != b[0]]
            assert len(switches) >= 4
            assert all(key for _, _, key in switches), "a layer switch started on a delta frame"
            # Each switch asked the target layer for a keyframe.
            requests = {layer.rid: layer.keyframe_requests for layer in publisher.layers}
            assert requests["q"] >= 1 and requests["h"] >= 1, requests
            log.assert_continuous()
            assert viewer.errors == [] and viewer.failures == []
        finally:
            await close_all(publisher, viewer)


async def test_video_pauses_audio_continues_and_video_resumes_at_a_keyframe() -> None:
    async with sfu_server() as (url, transport):
        publisher, (viewer,) = await started(url, "Squeezed")
        try:
            mid = video_mid(viewer, publisher)
            log = VideoLog(viewer, mid)
            set_budget(transport, viewer, NOTHING)
            paused_at = time.monotonic()
            await viewer.wait_for(
                lambda: {"type": "video-paused", "mids": [mid]} in viewer.messages
            )
            await asyncio.sleep(0.5)  # frames already on the way
            audio = next(t for t in publisher.tracks if t.kind == "audio")
            video_before = viewer.received(publisher.id, "video")
            audio_before, sent_before = viewer.received(publisher.id, "audio"), audio.sent
            await asyncio.sleep(2)
            # paused… (aiortc's jitter buffer may still hand out the frame it held back)
            assert viewer.received(publisher.id, "video") <= video_before + 1
            heard = viewer.received(publisher.id, "audio") - audio_before
            assert heard >= 0.9 * (audio.sent - sent_before)  # …and audio is not
            await viewer.wait_for(
                lambda: any(m.get("type") == "link-quality" and m["quality"] == "poor"
                            for m in viewer.messages)
            )  # fmt: skip
            resumed_from = len(frames_from(viewer, publisher))
            paused_for = time.monotonic() - paused_at
            set_budget(transport, viewer, TOP)
            await viewer.wait_for(lambda: {"type": "video-paused", "mids": []} in viewer.messages)
            await viewer.wait_for(lambda: len(frames_from(viewer, publisher)) > resumed_from + 10)
            # aiortc's jitter buffer releases a frame when the next one starts: the last frame
            # before the pause came out with the resume; the one after it is the first sent.
            assert frames_from(viewer, publisher)[resumed_from + 1][2], "resumed on a delta frame"
            log.assert_continuous(pause=paused_for + 3)  # no hole in the line's numbering
        finally:
            await close_all(publisher, viewer)


async def test_audio_is_never_dropped_for_video() -> None:
    async with sfu_server() as (url, transport):
        publisher, (viewer,) = await started(url, "Crowded")
        try:
            await wait_rid(viewer, publisher, "f", frames=10)
            # The top layer stays allocated, but the pacer drains far slower than it arrives:
            # its queue overflows and video is dropped. Audio goes around the pacer.
            pacer = endpoint(transport, viewer).downlink.pacer
            pacer.set_target(60_000)
            pacer.set_target = lambda bits_per_s: None  # type: ignore[method-assign]
            set_budget(transport, viewer, TOP)
            audio = next(t for t in publisher.tracks if t.kind == "audio")
            await asyncio.sleep(0.5)
            heard_before, sent_before = viewer.received(publisher.id, "audio"), audio.sent
            dropped_before = pacer.dropped
            await asyncio.sleep(3)
            assert pacer.dropped > dropped_before  # video was dropped…
            heard = viewer.received(publisher.id, "audio") - heard_before
            assert heard >= 0.95 * (audio.sent - sent_before)  # …and no audio
            assert viewer.errors == [] and viewer.failures == []
        finally:
            await close_all(publisher, viewer)


async def test_a_subscriber_that_stops_sending_feedback_gets_less_not_more() -> None:
    async with sfu_server() as (url, transport):
        publisher, (mute, fine) = await started(url, "Mute", "Fine")
        try:
            dtls = next(
                t for t in mute.pc.getTransceivers() if t.kind == "video"
            ).receiver.transport
            send = dtls._send_rtp

            async def no_rtcp(data: bytes) -> None:
                if not 191 < data[1] < 224:
                    await send(data)

            dtls._send_rtp = no_rtcp  # no RR, NACK, PLI or REMB from now on
            downlink = endpoint(transport, mute).downlink
            mid = video_mid(mute, publisher)
            targets = [downlink.estimator.target]
            while {"type": "video-paused", "mids": [mid]} not in mute.messages:
                await asyncio.sleep(0.5)
                targets.append(downlink.estimator.target)
                assert len(targets) < 60, targets  # within 30 s its video is paused…
            assert targets == sorted(targets, reverse=True), targets  # …and it never grew
            before = fine.received(publisher.id, "video")
            await asyncio.sleep(2)
            assert fine.received(publisher.id, "video") - before >= 45  # the other: untouched
            assert current_rid(fine, publisher) == "f"
        finally:
            await close_all(publisher, mute, fine)


async def test_loss_on_the_publisher_leg_of_a_layer_is_repaired_with_rtx() -> None:
    async with sfu_server() as (url, _):
        publisher, (viewer,) = await started(url, "Viewer")
        try:
            await wait_rid(viewer, publisher, "f", frames=10)
            before = viewer.received(publisher.id, "video")
            sent = next(layer for layer in publisher.layers if layer.rid == "f").frames_sent
            publisher.loss = 0.05
            await asyncio.sleep(3)
            publisher.loss = 0.0
            await asyncio.sleep(0.5)
            f = next(layer for layer in publisher.layers if layer.rid == "f")
            lost = {seq for rid, seq in publisher.lost if rid == "f"}
            assert len(lost) >= 3
            assert len(lost & f.nacked) >= 0.8 * len(lost)  # NACKed and sent again as RTX
            got = viewer.received(publisher.id, "video") - before
            assert got >= 0.8 * (f.frames_sent - sent)
            frames_from(viewer, publisher)  # still byte-exact
        finally:
            await close_all(publisher, viewer)


async def test_the_publisher_hears_which_layers_are_received(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rid goes off only after nobody wanted it for LAYER_OFF_AFTER: shortened here.
    monkeypatch.setattr(uplink, "LAYER_OFF_AFTER", 2.0)
    async with sfu_server() as (url, transport):
        publisher, (viewer,) = await started(url, "Viewer", honor_layers=True)
        try:
            mid = publisher.pc.getTransceivers()[1].mid

            def told(active: list[str]) -> bool:
                return publisher.layers_messages[-1:] == [
                    {"type": "layers", "mid": mid, "active": active}
                ]

            # The top layer, and the lowest (where a paused line would resume): not h, once
            # nobody has wanted it for LAYER_OFF_AFTER.
            await publisher.wait_for(lambda: told(["q", "f"]))
            h = next(layer for layer in publisher.layers if layer.rid == "h")
            await asyncio.sleep(0.5)
            stopped = h.frames_sent
            await asyncio.sleep(1)
            assert h.frames_sent == stopped  # switched off: nobody needs it
            set_budget(transport, viewer, MIDDLE)  # now h fits: asked for, turned on, used
            await wait_rid(viewer, publisher, "h", frames=10)
            await publisher.wait_for(lambda: told(["q", "h"]))
            assert viewer.errors == [] and publisher.errors == []
        finally:
            await close_all(publisher, viewer)


async def test_a_single_layer_publisher_beside_a_simulcast_one() -> None:
    async with sfu_server() as (url, transport):
        publisher, (viewer,) = await started(url, "Viewer")
        plain = await SfuPeer(url, "Plain").join()
        try:
            await viewer.wait_for(lambda: viewer.received(plain.id, "video") >= 30)
            await publisher.wait_for(lambda: publisher.received(plain.id, "video") >= 30)
            await plain.wait_for(lambda: plain.received(publisher.id, "video") >= 30)
            assert viewer.inbox.sizes[plain.id] == (320, 240)
            set_budget(transport, viewer, NOTHING)  # both of the viewer's videos pause
            await viewer.wait_for(
                lambda: any(m.get("type") == "video-paused" and len(m["mids"]) == 2
                            for m in viewer.messages)
            )  # fmt: skip
        finally:
            await close_all(publisher, viewer, plain)
