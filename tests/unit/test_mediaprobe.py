"""tests/e2e/mediaprobe.py's arithmetic on made-up samples (the browser side is proven by
tests/e2e/test_weaklink.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.mediaprobe import frame_rate, frozen_share, playback_gaps, report

PEER = "p1"


def sample(t_ms: float, painted: int | None, time_s: float = 0.0, **extra: Any) -> dict[str, Any]:
    video = {"painted": painted, "decoded": painted or 0, "time": time_s, "width": 640}
    video |= {"height": 480, "audioBytes": 0, "tracks": ["a1", "v1"], **extra}
    return {"t": t_ms, "videos": {PEER: video}}


def test_frame_rate_and_frozen_samples() -> None:
    # 4 steps of 0.5 s: 10 frames, none, 10, 10.
    series = [sample(0, 0), sample(500, 10), sample(1000, 10), sample(1500, 20), sample(2000, 30)]
    assert frame_rate(series, PEER, "painted") == pytest.approx(15.0)
    assert frozen_share(series, PEER) == pytest.approx(0.25)


def test_a_replaced_video_element_restarts_its_counter() -> None:
    series = [sample(0, 100), sample(500, 110), sample(1000, 4)]
    assert frame_rate(series, PEER, "painted") == pytest.approx(14.0)
    assert frozen_share(series, PEER) == 0.0


def test_a_missing_tile_counts_as_frozen() -> None:
    series = [sample(0, 0), {"t": 500, "videos": {}}, sample(1000, 5)]
    assert frozen_share(series, PEER) == 1.0


def test_ws_playback_gaps_count_stalls_and_skipped_media() -> None:
    steady = [sample(i * 500, i, time_s=i * 0.5) for i in range(5)]
    gaps = playback_gaps(steady, PEER)
    assert gaps is not None
    assert gaps.stalled == pytest.approx(0.0) and gaps.skipped == pytest.approx(0.0)
    # 0.5 s stalled, then a jump of 1.5 s media in a 0.5 s step (1 s never heard).
    times = [0.0, 0.5, 0.5, 2.0, 2.5]
    jumpy = [sample(i * 500, i, time_s=t) for i, t in enumerate(times)]
    gaps = playback_gaps(jumpy, PEER)
    assert gaps is not None
    assert gaps.stalled == pytest.approx(0.25) and gaps.skipped == pytest.approx(0.5)
    no_rtc = {"rtc": {"inbound": [], "outbound": []}, "debug": None, "selfId": "me"}
    got = report("ws", {**jumpy[0], **no_rtc}, {**jumpy[-1], **no_rtc}, jumpy[1:-1])
    assert got.remote[PEER].audio_concealed == pytest.approx(0.75)


def rtc(concealed: int, total: int, received: int) -> dict[str, Any]:
    audio = {"kind": "audio", "trackIdentifier": "a1", "bytesReceived": received}
    audio |= {"concealedSamples": concealed, "totalSamplesReceived": total}
    video = {"kind": "video", "trackIdentifier": "v1", "bytesReceived": 4 * received}
    return {"inbound": [audio, video], "outbound": []}


def test_report_for_webrtc_uses_the_peers_own_audio_track() -> None:
    start = {**sample(0, 0), "rtc": rtc(100, 48_000, 0), "selfId": "me", "debug": None}
    end = {**sample(1000, 20), "rtc": rtc(1060, 96_000, 12_500), "selfId": "me", "debug": None}
    got = report("webrtc", start, end, [sample(500, 10)]).remote[PEER]
    assert got.audio_concealed == pytest.approx(0.02)
    assert got.kbit_per_s == pytest.approx(500.0)
    assert got.fps == pytest.approx(20.0) and got.frozen == 0.0
    assert got.resolution == "640x480"
