"""The fan-out: shared frames, keyframe gating, timestamp rebasing, bounded queues."""

from __future__ import annotations

import asyncio

from roomtone.sfu.forwarder import MAX_QUEUED, Forwarder, SlotTrack
from tests.sfupeer import video_clip

KEY = video_clip().frames[0]
DELTA = video_clip().frames[1]


def forwarder(kind: str = "video") -> tuple[Forwarder, list[int]]:
    plis: list[int] = []
    return Forwarder(kind, lambda: plis.append(1)), plis


async def drain(track: SlotTrack) -> list[tuple[bytes, int]]:
    out = []
    while True:
        try:
            frame = await asyncio.wait_for(track.recv(), 0.01)
        except TimeoutError:
            return out
        out.append((frame.data, frame.pts))


async def test_subscribers_get_no_delta_before_a_keyframe_and_ask_for_one() -> None:
    fwd, plis = forwarder()
    slot = SlotTrack("video")
    slot.attach(fwd)
    assert plis == [1]  # a new subscription asks at once
    fwd.on_frame(DELTA, 3000)
    fwd.on_frame(DELTA, 6000)
    assert await drain(slot) == []
    assert len(plis) == 3
    fwd.on_frame(KEY, 9000)
    fwd.on_frame(DELTA, 12000)
    assert await drain(slot) == [(KEY, 0), (DELTA, 3000)]


async def test_one_frame_object_is_shared_by_all_subscribers() -> None:
    fwd, _ = forwarder()
    slots = [SlotTrack("video") for _ in range(3)]
    for slot in slots:
        slot.attach(fwd)
    fwd.on_frame(KEY, 0)
    frames = [await slot.recv() for slot in slots]
    assert all(frame.data is KEY for frame in frames)


async def test_audio_flows_at_once_and_switching_source_keeps_time_moving() -> None:
    first, _ = forwarder("audio")
    second, _ = forwarder("audio")
    slot = SlotTrack("audio")
    slot.attach(first)
    first.on_frame(b"a", 48_000)
    first.on_frame(b"b", 48_960)
    assert await drain(slot) == [(b"a", 0), (b"b", 960)]
    slot.attach(second)
    first.on_frame(b"stale", 49_920)
    second.on_frame(b"c", 5)
    assert await drain(slot) == [(b"c", 1920)]
    assert first.slots == [] and second.slots == [slot]


async def test_a_lagging_subscriber_skips_to_the_next_keyframe() -> None:
    fwd, plis = forwarder()
    slot = SlotTrack("video")
    slot.attach(fwd)
    fwd.on_frame(KEY, 0)
    for i in range(MAX_QUEUED["video"] + 5):
        fwd.on_frame(DELTA, 3000 * (i + 1))
    before = len(plis)
    frames = await drain(slot)
    assert len(frames) < MAX_QUEUED["video"]
    fwd.on_frame(DELTA, 999_000)
    assert await drain(slot) == []
    assert len(plis) > before


async def test_closing_a_forwarder_detaches_its_subscribers() -> None:
    fwd, _ = forwarder()
    slot = SlotTrack("video")
    slot.attach(fwd)
    fwd.close()
    assert slot.source is None and fwd.slots == []
    fwd.on_frame(KEY, 0)
    assert await drain(slot) == []


async def test_empty_frames_are_ignored() -> None:
    fwd, _ = forwarder("audio")
    slot = SlotTrack("audio")
    slot.attach(fwd)
    fwd.on_frame(b"", 0)
    fwd.on_frame(b"a", 960)
    assert await drain(slot) == [(b"a", 0)]
