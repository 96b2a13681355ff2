"""Issue 13 in Chromium, one room of three per media mode (the box has two cores):

- Alice picks another camera on the join screen (live preview, microphone
  level, pickers remembered in localStorage) and joins with it;
- Carol's camera is refused: she joins with sound only and is told so, and the
  others see her tile with the camera off while her sound plays;
- everyone's fake microphone beeps, so each is highlighted as speaking on the
  others' pages; Carol mutes: her tile shows muted and stops being highlighted;
- each tile shows the participant's connection quality;
- Bob switches camera mid-call, then "loses" it (the track ends): the others'
  tile of him keeps playing throughout, and he never rejoins;
- Alice shares her screen: it plays large on Bob's and Carol's pages; Bob is
  told someone else is sharing; Alice stops from the browser's own bar.

Media is proven from inside the pages (frames and time advancing, decoded
audio or RTP packets); waits poll with deadlines and assert no timings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.call import Participant, audio_counter, join, wait_in_call, wait_until
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Make getUserMedia refuse any request for a camera, as a person clicking "Block" would.
REFUSE_CAMERA = """
(() => {
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) =>
    constraints && constraints.video
      ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))
      : real(constraints);
})();
"""

TILE = '[data-testid="remote-tile"][data-peer-id="{}"]'
# Waits for something media-driven (a camera opening, a level, a picture) on a busy box.
MEDIA_MS = 20_000

# A <video>'s picture, frame count and time, and its element's decoded audio.
VIDEO_JS = """
(selector) => {
  const v = document.querySelector(selector);
  if (!v) return null;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  return {
    width: v.videoWidth, height: v.videoHeight, time: v.currentTime,
    frames: q ? q.totalVideoFrames : 0, audioBytes: v.webkitAudioDecodedByteCount || 0,
  };
}
"""

# The end of a device: what the browser does when a camera is unplugged, or when
# "Stop sharing" is clicked in its own bar (the track stops and fires `ended`).
END_TRACK_JS = """
(which) => {
  const s = window.__roomtone.state();
  const stream = which === 'screen' ? s.screenStream : s.localStream;
  const track = stream.getVideoTracks()[0];
  track.stop();
  track.dispatchEvent(new Event('ended'));
  return track.id;
}
"""


def video(page: Page, selector: str) -> dict[str, Any] | None:
    return page.evaluate(VIDEO_JS, selector)


def plays(page: Page, selector: str, *, what: str) -> dict[str, Any]:
    """The video has a picture and its frames and time advance; returns the last sample."""
    first = wait_until(
        f"{what}: a picture",
        lambda: (v := video(page, selector)) and v["width"] > 0 and v,
    )
    return wait_until(
        f"{what}: frames advancing",
        lambda: (
            (v := video(page, selector))
            and v["frames"] > first["frames"]
            and v["time"] > first["time"]
            and v
        ),
    )


def remote_audio(viewer: Participant, peer_id: str, mode: str) -> int:
    for v in viewer.remote_videos():
        if v["peer"] == peer_id:
            return audio_counter(v, mode)
    return -1


def hears(viewer: Participant, peer_id: str, mode: str, what: str) -> None:
    before = remote_audio(viewer, peer_id, mode)
    wait_until(what, lambda: remote_audio(viewer, peer_id, mode) > max(before, 0))


def local_video_label(page: Page) -> str | None:
    return page.evaluate(
        "() => { const t = window.__roomtone.state().localStream.getVideoTracks()[0];"
        " return t && t.readyState === 'live' ? t.label : null; }"
    )


def join_with_another_camera(page: Page, url: str, name: str) -> Participant:
    """The join screen: preview and level meter live, pick another camera, join."""
    page.goto(url)
    plays(page, '[data-testid="preview-video"]', what=f"{name}'s camera preview")
    expect(page.get_by_test_id("mic-level")).to_have_attribute(
        "data-active", "true", timeout=MEDIA_MS
    )
    cameras = page.get_by_test_id("camera-select").locator("option")
    expect(cameras).to_have_count(3, timeout=MEDIA_MS)
    page.get_by_test_id("camera-select").select_option(label="fake_device_2")
    wait_until(
        "the preview to show the other camera",
        lambda: (
            page.evaluate(
                "() => document.querySelector('[data-testid=preview-video]')"
                ".srcObject.getVideoTracks()[0].label"
            )
            == "fake_device_2"
        ),
        timeout=15,
    )
    page.get_by_test_id("join-name").fill(name)
    page.get_by_test_id("join-button").click()
    wait_in_call(page)
    assert local_video_label(page) == "fake_device_2"  # the preview's camera, handed over
    stored = page.evaluate("() => localStorage.getItem('roomtone_camera')")
    assert stored and stored == page.evaluate(
        "() => window.__roomtone.state().localStream.getVideoTracks()[0].getSettings().deviceId"
    )
    return Participant(name, page)


@pytest.mark.parametrize("mode", ["ws", "webrtc", "sfu"])
def test_devices_state_speaking_quality_and_screen_sharing(
    mode: str,
    server_for: Callable[[str], ServerProcess],
    new_context,
) -> None:
    server = server_for(mode)
    alice = join_with_another_camera(new_context().new_page(), server.url, "Alice")
    bob = join(new_context().new_page(), server.url, "Bob")
    refused = new_context()
    refused.add_init_script(REFUSE_CAMERA)
    carol_page = refused.new_page()
    carol_page.goto(server.url)
    expect(carol_page.get_by_test_id("media-notice")).to_have_attribute(
        "data-notice", "camera-denied", timeout=MEDIA_MS
    )
    carol_page.get_by_test_id("join-name").fill("Carol")
    carol_page.get_by_test_id("join-button").click()
    wait_in_call(carol_page)
    carol = Participant("Carol", carol_page)
    expect(carol.page.get_by_test_id("media-notice")).to_be_visible()
    expect(carol.page.get_by_test_id("camera-button")).to_be_disabled()
    a_id, b_id, c_id = alice.self_id, bob.self_id, carol.self_id
    everyone = {a_id: alice, b_id: bob, c_id: carol}

    # Pictures from Alice and Bob everywhere; Carol, audio only, is heard with her camera off.
    for pid in (a_id, b_id):
        for viewer_id, viewer in everyone.items():
            if viewer_id != pid:
                plays(viewer.page, f"{TILE.format(pid)} video", what=f"{viewer.name} sees {pid}")
    for viewer in (alice, bob):
        tile = viewer.page.locator(TILE.format(c_id))
        expect(tile).to_have_attribute("data-camera", "off", timeout=MEDIA_MS)
        hears(viewer, c_id, mode, f"{viewer.name} to hear Carol (no camera)")

    # Everyone's fake microphone beeps: everyone is highlighted as speaking on the
    # others' pages, and every tile shows how the connection is (which grade depends
    # on how busy the machine is: loopback round trips grow under load).
    for viewer_id, viewer in everyone.items():
        for pid in everyone.keys() - {viewer_id}:
            tile = viewer.page.locator(TILE.format(pid))
            expect(tile).to_have_attribute("data-speaking", "true", timeout=MEDIA_MS)
            expect(tile.get_by_test_id("quality")).to_have_attribute(
                "data-quality", re.compile(r"^(good|fair|poor)$"), timeout=MEDIA_MS
            )

    # Carol mutes: muted on the others' tiles at once, and no longer highlighted.
    clicked = time.monotonic()
    carol.page.get_by_test_id("mute-button").click()
    for viewer, talker in ((alice, b_id), (bob, a_id)):
        tile = viewer.page.locator(TILE.format(c_id))
        expect(tile).to_have_attribute("data-mic", "off", timeout=10_000)
        expect(tile.get_by_test_id("mic-off")).to_be_visible()
        print(f"{mode}: Carol muted -> {viewer.name}: {time.monotonic() - clicked:.2f} s")
        expect(tile).to_have_attribute("data-speaking", "false")
        expect(viewer.page.locator(TILE.format(talker))).to_have_attribute(
            "data-speaking", "true", timeout=MEDIA_MS
        )

    # Bob switches camera mid-call: no rejoin, and his tile keeps playing for the others.
    bob.page.get_by_test_id("devices-button").click()
    picker = bob.page.get_by_test_id("device-settings").get_by_test_id("camera-select")
    picker.select_option(label="fake_device_2")
    wait_until("Bob's camera to switch", lambda: local_video_label(bob.page) == "fake_device_2")
    assert bob.self_id == b_id
    for viewer in (alice, carol):
        plays(viewer.page, f"{TILE.format(b_id)} video", what=f"{viewer.name} sees Bob switched")
    # …then that camera goes away (unplugged): he is back on a camera, still playing.
    lost = bob.page.evaluate(END_TRACK_JS, "camera")
    wait_until(
        "Bob's camera to recover",
        lambda: bob.page.evaluate(
            "(lost) => { const t = window.__roomtone.state().localStream.getVideoTracks()[0];"
            " return !!t && t.id !== lost && t.readyState === 'live'; }",
            lost,
        ),
    )
    for viewer in (alice, carol):
        plays(viewer.page, f"{TILE.format(b_id)} video", what=f"{viewer.name} sees Bob recovered")
    assert bob.self_id == b_id

    # Alice shares her screen: it plays large for Bob and Carol. Its picture is taller than
    # the 240 lines the cameras capture here (conftest.py), so it is not her camera (the
    # screen's encoder keeps its resolution: its content hint is "detail").
    alice.page.get_by_test_id("screen-button").click()
    expect(alice.page.get_by_test_id("sharing-banner")).to_be_visible(timeout=MEDIA_MS)
    screen = f'figure[data-screen="true"][data-peer-id="{a_id}"] video'
    for viewer in (bob, carol):
        shown = plays(viewer.page, screen, what=f"{viewer.name} sees Alice's screen")
        wait_until(
            f"{viewer.name}'s screen video to be the screen's picture",
            lambda viewer=viewer: (v := video(viewer.page, screen)) and v["height"] > 240 and v,
        )
        box = viewer.page.locator(screen).bounding_box()
        assert box and box["width"] > 600, shown
    # One screen at a time.
    bob.page.get_by_test_id("screen-button").click()
    expect(bob.page.get_by_test_id("media-notice")).to_have_attribute(
        "data-notice", "screen-taken", timeout=MEDIA_MS
    )
    # Alice stops from the browser's own "Stop sharing" bar.
    alice.page.evaluate(END_TRACK_JS, "screen")
    expect(alice.page.get_by_test_id("sharing-banner")).to_have_count(0, timeout=MEDIA_MS)
    for viewer in (bob, carol):
        expect(viewer.page.locator('figure[data-screen="true"]')).to_have_count(0, timeout=MEDIA_MS)
        plays(viewer.page, f"{TILE.format(a_id)} video", what=f"{viewer.name} sees Alice's camera")
