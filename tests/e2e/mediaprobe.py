"""What each participant really gets, measured inside its page over a time window.

`install(context)` adds tests/e2e/mediaprobe.js to a browser context before the
page loads; it remembers the page's RTCPeerConnections and samples every remote
<video> each 0.5 s. `MediaProbe(page, mode).start()` ... `.stop()` then gives,
per remote participant (`RemoteMedia`):

- **fps**: frames painted per second (requestVideoFrameCallback), and frames
  decoded per second (getVideoPlaybackQuality);
- **frozen**: the share of 0.5 s samples in which no new frame was painted;
- **resolution**: the most common videoWidth x videoHeight over the samples;
- **audio concealed**: for `webrtc`/`sfu`, getStats' concealedSamples /
  totalSamplesReceived of that participant's audio track (NetEq's own count
  of samples it had to invent). For `ws`, audio plays through MediaSource on
  the same element as the video, so the honest equivalent is the playback
  clock: the share of wall time in which `currentTime` did not advance
  (stalled: silence) plus the media time the player skipped to get back to
  the live edge (never heard), over wall time;
- **kbit/s** received from that participant (RTP bytes, or bytes appended to
  its SourceBuffer in `ws`).

and what the participant's browser itself sends (`SentVideo`: resolution,
frame rate, bitrate and WebRTC's qualityLimitationReason per outbound video).
Nothing here asserts; tests and bench/weaklink.py decide what is good enough.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

PROBE_JS = Path(__file__).with_name("mediaprobe.js")
# A sample whose media clock ran this much faster than the wall clock was a live-edge seek.
SEEK_SLACK_S = 0.25

Sample = dict[str, Any]  # {"t": ms, "videos": {peer id: {...}}} as mediaprobe.js records it


def install(context: BrowserContext) -> None:
    """Make every page of `context` measurable (call before opening pages)."""
    context.add_init_script(path=str(PROBE_JS))


@dataclass(frozen=True)
class RemoteMedia:
    """What one participant got from one other participant over a window."""

    peer: str
    fps: float
    decoded_fps: float
    frozen: float  # share of 0.5 s samples without a newly painted frame
    width: int
    height: int
    audio_concealed: float | None  # share of audio invented (webrtc, sfu) or lost (ws)
    kbit_per_s: float | None
    samples: int
    # ws only, the two parts of audio_concealed: shares of wall time stalled, and of
    # media skipped by live-edge seeks.
    stalled: float | None = None
    skipped: float | None = None

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class SentVideo:
    """One outbound video stream of the participant's browser over a window."""

    width: int
    height: int
    fps: float
    kbit_per_s: float
    limited_by: str  # qualityLimitationReason: none, bandwidth, cpu, other


@dataclass(frozen=True)
class MediaReport:
    self_id: str
    seconds: float
    remote: dict[str, RemoteMedia]
    sent_video: list[SentVideo]


class MediaProbe:
    """Measures one participant's page between `start()` and `stop()`."""

    def __init__(self, page: Page, mode: str) -> None:
        self.page = page
        self.mode = mode
        self._start: dict[str, Any] | None = None

    def snapshot(self) -> dict[str, Any]:
        return self.page.evaluate("() => window.__roomtoneProbe.snapshot()")

    def start(self) -> None:
        self._start = self.snapshot()

    def stop(self) -> MediaReport:
        if self._start is None:
            raise RuntimeError("MediaProbe.stop() before start()")
        start, end = self._start, self.snapshot()
        self._start = None
        samples = self.page.evaluate(
            "([a, b]) => window.__roomtoneProbe.samplesBetween(a, b)", [start["t"], end["t"]]
        )
        return report(self.mode, start, end, samples)


def measure(probes: Mapping[str, MediaProbe], seconds: float) -> dict[str, MediaReport]:
    """Measure every probe over the same `seconds` (starts and stops are a few ms apart)."""
    for probe in probes.values():
        probe.start()
    time.sleep(seconds)
    return {name: probe.stop() for name, probe in probes.items()}


def report(
    mode: str, start: dict[str, Any], end: dict[str, Any], samples: list[Sample]
) -> MediaReport:
    """Turn two snapshots and the samples between them into a MediaReport."""
    seconds = (end["t"] - start["t"]) / 1000
    series = [{"t": start["t"], "videos": start["videos"]}, *samples]
    series.append({"t": end["t"], "videos": end["videos"]})
    remote = {}
    for peer in end["videos"]:
        gaps = playback_gaps(series, peer) if mode == "ws" else None
        if mode == "ws":
            audio = min(1.0, gaps.stalled + gaps.skipped) if gaps else None
        else:
            audio = concealed(start, end, peer)
        width, height = resolution(series, peer)
        remote[peer] = RemoteMedia(
            peer=peer,
            fps=frame_rate(series, peer, "painted"),
            decoded_fps=frame_rate(series, peer, "decoded"),
            frozen=frozen_share(series, peer),
            width=width,
            height=height,
            audio_concealed=audio,
            kbit_per_s=received_kbit(mode, start, end, peer, seconds),
            samples=len(series) - 1,
            stalled=gaps.stalled if gaps else None,
            skipped=gaps.skipped if gaps else None,
        )
    return MediaReport(
        self_id=end["selfId"], seconds=seconds, remote=remote, sent_video=sent(start, end, seconds)
    )


def _counter(video: dict[str, Any] | None, key: str) -> int | None:
    if video is None:
        return None
    value = video.get(key)
    # No requestVideoFrameCallback in this browser: fall back to decoded frames.
    return video.get("decoded", 0) if value is None else value


def _increments(series: Sequence[Sample], peer: str, key: str) -> Iterable[tuple[float, int]]:
    """(seconds, new frames) per step; a counter that went back (new element) restarted at 0."""
    for a, b in pairwise(series):
        before, after = _counter(a["videos"].get(peer), key), _counter(b["videos"].get(peer), key)
        step = (b["t"] - a["t"]) / 1000
        if after is None or before is None:
            yield step, 0  # no element at one end of the step
        elif after < before:
            yield step, after  # a new element or source: its counter restarted
        else:
            yield step, after - before


def frame_rate(series: Sequence[Sample], peer: str, key: str) -> float:
    steps = list(_increments(series, peer, key))
    seconds = sum(s for s, _ in steps)
    return sum(n for _, n in steps) / seconds if seconds > 0 else 0.0


def frozen_share(series: Sequence[Sample], peer: str) -> float:
    """Share of steps (0.5 s samples) in which no new frame was painted."""
    steps = [n for seconds, n in _increments(series, peer, "painted") if seconds > 0.05]
    return sum(1 for n in steps if n == 0) / len(steps) if steps else 1.0


def resolution(series: Sequence[Sample], peer: str) -> tuple[int, int]:
    sizes = Counter(
        (v["width"], v["height"]) for s in series if (v := s["videos"].get(peer)) is not None
    )
    return sizes.most_common(1)[0][0] if sizes else (0, 0)


@dataclass(frozen=True)
class PlaybackGaps:
    stalled: float  # share of wall time in which the playback clock stood still
    skipped: float  # media time jumped over by live-edge seeks, per wall time


def playback_gaps(series: Sequence[Sample], peer: str) -> PlaybackGaps | None:
    """ws: how much of the wall time was not heard, from the element's playback clock."""
    wall = played = skipped = 0.0
    for a, b in pairwise(series):
        va, vb = a["videos"].get(peer), b["videos"].get(peer)
        step = (b["t"] - a["t"]) / 1000
        wall += step
        if va is None or vb is None:
            continue  # no element: nothing played
        advance = vb["time"] - va["time"]
        if advance > step + SEEK_SLACK_S:  # jumped ahead: the jump was never heard
            played += step
            skipped += advance - step
        elif advance > 0:
            played += advance
    if wall <= 0:
        return None
    return PlaybackGaps(stalled=max(0.0, (wall - played) / wall), skipped=skipped / wall)


def _tracks(snapshot: dict[str, Any], peer: str) -> set[str]:
    video = snapshot["videos"].get(peer)
    return set(video["tracks"]) if video else set()


def _inbound(snapshot: dict[str, Any], tracks: set[str], kind: str | None) -> list[dict[str, Any]]:
    return [
        s
        for s in snapshot["rtc"]["inbound"]
        if s.get("trackIdentifier") in tracks and (kind is None or s.get("kind") == kind)
    ]


def concealed(start: dict[str, Any], end: dict[str, Any], peer: str) -> float | None:
    """webrtc/sfu: concealedSamples / totalSamplesReceived of the peer's audio over the window."""
    tracks = _tracks(end, peer)

    def totals(snapshot: dict[str, Any]) -> tuple[int, int]:
        stats = _inbound(snapshot, tracks, "audio")
        return (
            sum(s.get("concealedSamples", 0) for s in stats),
            sum(s.get("totalSamplesReceived", 0) for s in stats),
        )

    (c0, n0), (c1, n1) = totals(start), totals(end)
    if n1 - n0 <= 0:
        return None if not _inbound(end, tracks, "audio") else 1.0
    return max(0.0, min(1.0, (c1 - c0) / (n1 - n0)))


def received_kbit(
    mode: str, start: dict[str, Any], end: dict[str, Any], peer: str, seconds: float
) -> float | None:
    if seconds <= 0:
        return None
    if mode == "ws":

        def appended(snapshot: dict[str, Any]) -> int:
            peers = (snapshot.get("debug") or {}).get("peers", {})
            return int(peers.get(peer, {}).get("bytesAppended", 0))

        return max(0, appended(end) - appended(start)) * 8 / 1000 / seconds
    tracks = _tracks(end, peer)
    before = sum(s.get("bytesReceived", 0) for s in _inbound(start, tracks, None))
    after = sum(s.get("bytesReceived", 0) for s in _inbound(end, tracks, None))
    return max(0, after - before) * 8 / 1000 / seconds


def sent(start: dict[str, Any], end: dict[str, Any], seconds: float) -> list[SentVideo]:
    before = {s["id"]: s for s in start["rtc"]["outbound"]}
    out = []
    for s in end["rtc"]["outbound"]:
        if s.get("kind") != "video" or seconds <= 0:
            continue
        b = before.get(s["id"], {})
        out.append(
            SentVideo(
                width=int(s.get("frameWidth", 0)),
                height=int(s.get("frameHeight", 0)),
                fps=(s.get("framesEncoded", 0) - b.get("framesEncoded", 0)) / seconds,
                kbit_per_s=(s.get("bytesSent", 0) - b.get("bytesSent", 0)) * 8 / 1000 / seconds,
                limited_by=str(s.get("qualityLimitationReason", "")),
            )
        )
    return out
