"""media-keyframe: the relay asks a sparse-keyframe publisher for one when someone waits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from roomtone.config import ServerConfig, WsRelayConfig
from roomtone.wsrelay.keyframes import MIN_INTERVAL_S
from tests.unit.test_wsrelay import MIME, Harness, chunks_of, settle
from tests.unit.test_wsrelay_recluster import recorder_stream


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keyframe_requests(harness: Harness, publisher) -> int:
    return len(harness.sock(publisher).messages("media-keyframe"))


@pytest.fixture
def config() -> ServerConfig:
    return ServerConfig()


@pytest.fixture
async def harness(config: ServerConfig) -> Harness:
    return Harness(config)


@pytest.fixture
def clock(harness: Harness) -> Clock:
    clock = Clock()
    harness.relay.keyframes.clock = clock
    return clock


async def test_late_joiner_of_a_firefox_like_stream_asks_for_a_keyframe(
    harness: Harness, clock: Clock
) -> None:
    # A keyframe every 7.5 s, 5 s streamed: the newest keyframe is 5 s old.
    data = recorder_stream(cluster_ms=1000, keyframe_ms=7500, seconds=5)
    alice, bob = harness.join("Alice"), harness.join("Bob")
    await harness.start(alice)
    harness.send(alice, chunks_of(data))
    await settle()
    assert keyframe_requests(harness, alice) == 0  # nobody waits
    harness.join("Carol")
    await settle()
    assert harness.sock(alice).messages("media-keyframe") == [{"type": "media-keyframe"}]
    harness.join("Dave")  # soon after: the restart already asked for is on its way
    clock.now += MIN_INTERVAL_S - 0.1
    harness.join("Erin")
    await settle()
    assert keyframe_requests(harness, alice) == 1
    clock.now += 0.2
    harness.join("Frank")
    await settle()
    assert keyframe_requests(harness, alice) == 2
    assert keyframe_requests(harness, bob) == 0  # not publishing


async def test_chromium_like_keyframes_need_no_request(harness: Harness, clock: Clock) -> None:
    data = recorder_stream(cluster_ms=200, keyframe_ms=1000, seconds=5)
    alice = harness.join("Alice")
    harness.join("Bob")
    await harness.start(alice, MIME)
    harness.send(alice, chunks_of(data))
    harness.join("Carol")
    await settle()
    assert keyframe_requests(harness, alice) == 0


@pytest.mark.parametrize(
    "config", [replace(ServerConfig(), wsrelay=WsRelayConfig(cache_bytes=2_000))]
)
async def test_a_recipient_waiting_for_a_sync_point_asks(harness: Harness, clock: Clock) -> None:
    """The history outgrew its bound: a joiner waits, and the next chunk asks for a keyframe."""
    data = recorder_stream(cluster_ms=1000, keyframe_ms=7500, seconds=5)
    alice = harness.join("Alice")
    await harness.start(alice)
    harness.send(alice, chunks_of(data[: len(data) // 2]))
    harness.relay.keyframes.forget(alice.id)
    harness.join("Bob")
    await settle()
    asked = keyframe_requests(harness, alice)
    clock.now += MIN_INTERVAL_S
    harness.send(alice, chunks_of(data[len(data) // 2 :]))
    await settle()
    assert keyframe_requests(harness, alice) == asked + 1
