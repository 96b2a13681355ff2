"""Issue 13 with Firefox in the room: a Firefox and a Chromium participant per mode.

Firefox joins from the join screen (its preview and microphone level live),
and on each side the other one's state shows: speaking (both fake microphones
make sound), the connection badge, muted within a moment of the click; then
the Chromium participant shares a screen and it plays on Firefox's page.
(Headless Firefox has no screen to share: its getDisplayMedia fails with
NotFoundError, which the page reports as "Screen sharing did not start.")
Firefox pages are driven through tests/e2e/firefox.py (evaluate and clicks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browsers import Browsers
from tests.e2e.call import Participant, join, wait_in_call, wait_until
from tests.e2e.firefox import missing_firefox
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TILE = '[data-testid="remote-tile"][data-peer-id="{}"]'

TILE_JS = """
(selector) => {
  const tile = document.querySelector(selector);
  if (!tile) return null;
  const badge = tile.querySelector('[data-testid="quality"]');
  return {
    mic: tile.dataset.mic, speaking: tile.dataset.speaking,
    quality: badge ? badge.dataset.quality : null,
  };
}
"""

# Painted frames (Firefox: mozPaintedFrames) and time of a <video>.
SCREEN_JS = """
(peerId) => {
  const v = document.querySelector(`figure[data-screen="true"][data-peer-id="${peerId}"] video`);
  if (!v) return null;
  const quality = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  const painted = v.mozPaintedFrames ?? (quality ? quality.totalVideoFrames : 0);
  return { width: v.videoWidth, height: v.videoHeight, time: v.currentTime, painted };
}
"""

PREVIEW_JS = """
() => {
  const v = document.querySelector('[data-testid="preview-video"]');
  const level = document.querySelector('[data-testid="mic-level"]');
  return !!v && v.videoWidth > 0 && !!level && level.dataset.active === 'true';
}
"""


@pytest.fixture(scope="module")
def browsers() -> Iterator[Browsers]:
    problem = missing_firefox()
    if problem:
        pytest.fail(problem)
    with Browsers() as browsers:
        yield browsers


def tile(viewer: Participant, peer_id: str) -> dict[str, Any] | None:
    return viewer.page.evaluate(TILE_JS, TILE.format(peer_id))


def screen_plays(viewer: Participant, sharer_id: str) -> None:
    first = wait_until(
        f"{viewer.name} to show a picture of the shared screen",
        lambda: (s := viewer.page.evaluate(SCREEN_JS, sharer_id)) and s["width"] > 0 and s,
    )
    wait_until(
        f"{viewer.name} to play the shared screen",
        lambda: (
            (s := viewer.page.evaluate(SCREEN_JS, sharer_id))
            and s["time"] > first["time"]
            and s["painted"] > first["painted"]
        ),
    )


@pytest.mark.parametrize("mode", ["ws", "webrtc", "sfu"])
def test_firefox_and_chromium_see_each_others_state_and_screen(
    mode: str, server_for, browsers: Browsers
) -> None:
    server: ServerProcess = server_for(mode)
    fox_page = browsers.page("f")
    fox_page.goto(server.url)
    fox_page.wait_for_function(PREVIEW_JS)  # the join screen's preview and level, in Firefox
    fox_page.get_by_test_id("join-name").fill("Fox")
    fox_page.get_by_test_id("join-button").click()
    wait_in_call(fox_page)
    fox = Participant("Fox", fox_page)
    chrome = join(browsers.page("c"), server.url, "Chrome")
    try:
        f_id, c_id = fox.self_id, chrome.self_id
        for viewer, peer in ((fox, c_id), (chrome, f_id)):
            wait_until(
                f"{viewer.name} to show the other speaking, with a connection badge",
                lambda viewer=viewer, peer=peer: (
                    (t := tile(viewer, peer))
                    and t["speaking"] == "true"
                    and t["quality"] in ("good", "fair", "poor")
                ),
            )
        for muter, viewer, muted in ((fox, chrome, f_id), (chrome, fox, c_id)):
            muter.page.get_by_test_id("mute-button").click()
            wait_until(
                f"{viewer.name} to show {muter.name} muted and not speaking",
                lambda viewer=viewer, muted=muted: (
                    (t := tile(viewer, muted)) and t["mic"] == "off" and t["speaking"] == "false"
                ),
                timeout=10,
                interval=0.1,
            )
        chrome.page.get_by_test_id("screen-button").click()
        screen_plays(fox, c_id)
        chrome.page.get_by_test_id("screen-button").click()
        wait_until(
            "Firefox to drop the stopped screen",
            lambda: fox.page.evaluate(SCREEN_JS, c_id) is None,
        )
    finally:
        browsers.close_page(fox_page)
        browsers.close_page(chrome.page)
