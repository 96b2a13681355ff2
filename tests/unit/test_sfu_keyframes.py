"""VP8 keyframe recognition and the per-publisher PLI rate limit."""

from __future__ import annotations

import asyncio

from roomtone.sfu.keyframes import KeyframeRequester, is_vp8_keyframe
from tests.sfupeer import video_clip, vp8_dimensions


def test_vp8_keyframes_and_size_from_real_frames() -> None:
    frames = video_clip().frames
    assert is_vp8_keyframe(frames[0])
    assert vp8_dimensions(frames[0]) == (320, 240)
    assert not any(is_vp8_keyframe(f) for f in frames[1:])
    assert vp8_dimensions(frames[1]) is None
    assert not is_vp8_keyframe(b"")
    assert not is_vp8_keyframe(b"\x00" * 10)  # no start code


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_at_most_one_pli_per_interval_and_none_lost() -> None:
    sent: list[float] = []
    clock = Clock()
    requester = KeyframeRequester(lambda: sent.append(clock.now), interval=0.05, clock=clock)
    requester.request()
    assert sent == [100.0]
    clock.now += 0.01
    for _ in range(20):
        requester.request()  # a burst: one deferred PLI, not 20
    assert sent == [100.0]
    clock.now = 100.05
    await asyncio.sleep(0.1)
    assert sent == [100.0, 100.05]
    clock.now = 101.0
    requester.request()
    assert len(sent) == 3 and requester.sent == 3


async def test_cancel_drops_the_deferred_request() -> None:
    sent: list[int] = []
    clock = Clock()
    requester = KeyframeRequester(lambda: sent.append(1), interval=0.05, clock=clock)
    requester.request()
    requester.request()
    requester.cancel()
    await asyncio.sleep(0.1)
    assert sent == [1]
