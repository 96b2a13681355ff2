"""Page helpers for the browser tests: joining, and reading what each <video> really plays.

Media is proven from inside the page: `videoWidth`, decoded frame counts and
`currentTime` for video; for audio, bytes decoded by the element (ws mode) or
inbound RTP audio packets from getStats through the `window.__roomtone` debug
handle (webrtc and sfu modes). Waits poll with a deadline; nothing asserts how
fast anything happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

MEDIA_TIMEOUT_S = 45.0

REMOTE_VIDEOS_JS = """
async () => {
  const handle = window.__roomtone;
  const debug = handle ? await handle.debug() : null;
  const peers = (debug && debug.peers) || {};
  return Array.from(document.querySelectorAll('[data-testid="remote-video"]')).map((v) => {
    const quality = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    const stats = peers[v.dataset.peerId] || {};
    return {
      peer: v.dataset.peerId,
      width: v.videoWidth,
      time: v.currentTime,
      frames: quality ? quality.totalVideoFrames : 0,
      audioBytes: v.webkitAudioDecodedByteCount || 0,
      audioPackets: stats.audioPacketsReceived || 0,
      paused: v.paused,
      muted: v.muted,
    };
  });
}
"""

# A 32x24 grey-scale thumbnail of a peer's video: the mean brightness and a
# checksum tell black and frozen frames apart from a live camera.
SNAPSHOT_JS = """
(peerId) => {
  const v = document.querySelector(`[data-testid="remote-video"][data-peer-id="${peerId}"]`);
  if (!v || !v.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = 32; c.height = 24;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, 32, 24);
  const d = g.getImageData(0, 0, 32, 24).data;
  let sum = 0, max = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = (d[i] * 3 + d[i + 1] * 6 + d[i + 2]) / 10;
    sum += y; max = Math.max(max, y);
    hash = (hash * 31 + (y | 0)) | 0;
  }
  return { mean: sum / (d.length / 4), max, hash };
}
"""


@dataclass
class Participant:
    name: str
    page: Page

    @property
    def self_id(self) -> str:
        return self.page.evaluate("() => window.__roomtone && window.__roomtone.state().selfId")

    def remote_videos(self) -> list[dict[str, Any]]:
        return self.page.evaluate(REMOTE_VIDEOS_JS)

    def remote_ids(self) -> set[str]:
        return {v["peer"] for v in self.remote_videos()}

    def snapshot(self, peer_id: str) -> dict[str, float] | None:
        return self.page.evaluate(SNAPSHOT_JS, peer_id)


def join(page: Page, url: str, name: str) -> Participant:
    """Join as `name`; `page` is a Playwright Page or a tests/e2e/firefox.FirefoxPage."""
    page.goto(url)
    page.get_by_test_id("join-name").fill(name)
    page.wait_for_function(JOIN_ENABLED_JS, timeout=20_000)
    page.get_by_test_id("join-button").click()
    page.wait_for_function(LOCAL_VIDEO_JS, timeout=20_000)
    wait_in_call(page)
    return Participant(name, page)


JOIN_ENABLED_JS = """
() => { const b = document.querySelector('[data-testid="join-button"]'); return b && !b.disabled; }
"""
LOCAL_VIDEO_JS = """
() => { const v = document.querySelector('[data-testid="local-video"]');
        return v && v.getClientRects().length > 0; }
"""


def wait_in_call(page: Page, timeout_ms: float = 20_000) -> None:
    page.wait_for_function(
        "() => window.__roomtone && window.__roomtone.state().phase === 'in-call'",
        timeout=timeout_ms,
    )


def wait_until(
    what: str, check: Callable[[], Any], timeout: float = MEDIA_TIMEOUT_S, interval: float = 0.5
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` and its last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last observation: {last!r}")
        time.sleep(interval)


def audio_counter(video: dict[str, Any], mode: str) -> int:
    return video["audioBytes"] if mode == "ws" else video["audioPackets"]


def wait_for_remote_media(participant: Participant, peer_ids: set[str], mode: str) -> None:
    """Every expected peer's <video> has a picture, then frames, time and audio advance."""

    def pictures() -> list[dict[str, Any]] | None:
        videos = participant.remote_videos()
        ids = {v["peer"] for v in videos}
        if ids != peer_ids or any(v["width"] <= 0 for v in videos):
            return None
        return videos

    base = wait_until(f"{participant.name} to show pictures from {sorted(peer_ids)}", pictures)
    before = {v["peer"]: v for v in base}

    def advanced() -> bool:
        videos = {v["peer"]: v for v in participant.remote_videos()}
        if set(videos) != peer_ids:
            return False
        return all(
            videos[p]["frames"] > before[p]["frames"]
            and videos[p]["time"] > before[p]["time"]
            and audio_counter(videos[p], mode) > audio_counter(before[p], mode)
            for p in peer_ids
        )

    wait_until(f"{participant.name}'s remote video and audio to advance", advanced)


def expect_remote_peers(participant: Participant, peer_ids: set[str]) -> None:
    wait_until(
        f"{participant.name} to show exactly {sorted(peer_ids)}",
        lambda: participant.remote_ids() == peer_ids,
        timeout=20,
    )
