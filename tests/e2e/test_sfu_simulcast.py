"""Chromium publishing simulcast through the SFU: the server's answer accepts the rid
encodings, Chromium sends them (no SSRCs in its SDP: the packets are bound by their rid
header extension), and the other participants play what the server forwards.

The web client publishes simulcast by default in sfu mode, as many layers as the capture
size allows (web/src/transports/sfu/simulcast.ts): q, h and f from 960x540, h and f at
the app's 640x480. A and B capture 960x540 here, C 640x480.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.call import Participant, join, wait_for_remote_media, wait_until
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def capture(width: int, height: int) -> str:
    return (
        "window.__roomtoneVideoConstraints = "
        f"{{width: {{ideal: {width}}}, height: {{ideal: {height}}}, frameRate: {{ideal: 15}}}};"
    )


SIZES = ((960, 540), (960, 540), (640, 480))
RIDS = ({"q", "h", "f"}, {"q", "h", "f"}, {"h", "f"})
LOWEST = ("q", "q", "h")


def outbound(participant: Participant) -> dict[str, Any]:
    debug = participant.page.evaluate("async () => await window.__roomtone.debug()")
    return debug.get("outbound") or {}


def sending_simulcast(participant: Participant, lowest: str) -> dict[str, Any] | None:
    layers = outbound(participant)
    return layers if layers.get(lowest, {}).get("framesEncoded") else None


def test_chromium_simulcast_is_received_and_forwarded(
    server_for: Callable[[str], ServerProcess], new_page: Callable[..., Page]
) -> None:
    server = server_for("sfu")
    pages = []
    for width, height in SIZES:
        page = new_page(small_video=False)
        page.context.add_init_script(capture(width, height))
        pages.append(page)
    alice, bob, carol = (join(page, server.url, n) for page, n in zip(pages, "ABC", strict=True))
    everyone = {p.self_id: p for p in (alice, bob, carol)}
    for pid, participant in everyone.items():
        wait_for_remote_media(participant, set(everyone) - {pid}, "sfu")
    for participant, rids, lowest in zip((alice, bob, carol), RIDS, LOWEST, strict=True):
        # The answer accepted the encodings: Chromium runs one sender per rid, and sends
        # at least the lowest (how many more depends on its own uplink estimate and on
        # which layers the server asks for).
        layers = wait_until(
            f"{participant.name} to send simulcast",
            lambda p=participant, low=lowest: sending_simulcast(p, low),
        )
        assert set(layers) - {"uplink"} == rids, layers


# Remembers whether any tile of the page ever said its video was paused.
EVER_PAUSED_JS = """
window.__everPaused = false;
new MutationObserver(() => {
  if (document.querySelector('[data-video-paused="true"]')) window.__everPaused = true;
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['data-video-paused']});
"""


def test_single_layer_publishers_play_at_once_and_never_show_paused(
    server_for: Callable[[str], ServerProcess], new_page: Callable[..., Page]
) -> None:
    """A client that does not simulcast (one ~1 Mbit/s layer at 640x480, above where a
    subscriber's estimate starts) and one whose camera is too small for several layers
    (320x240): every subscriber plays them full size, and no tile ever says "paused"."""
    server = server_for("sfu")
    plain = new_page(small_video=False)  # 640x480, one encoding
    plain.context.add_init_script("window.__roomtoneNoSimulcast = true;")
    small = new_page()  # 320x240: one encoding
    viewer = new_page(small_video=False)
    pages = (plain, small, viewer)
    for page in pages:
        page.context.add_init_script(EVER_PAUSED_JS)
    joined = [join(page, server.url, name) for page, name in zip(pages, "PSV", strict=True)]
    everyone = {p.self_id: p for p in joined}
    for pid, participant in everyone.items():
        wait_for_remote_media(participant, set(everyone) - {pid}, "sfu")
    assert outbound(joined[0]).keys() - {"uplink"} == {""}  # one plain encoding each
    assert outbound(joined[1]).keys() - {"uplink"} == {""}

    def full_size() -> bool:  # (Chromium may start its one encoding smaller, for its uplink)
        sizes = {v["peer"]: v["width"] for v in joined[2].remote_videos()}
        return sizes.get(joined[0].self_id) == 640 and sizes.get(joined[1].self_id) == 320

    wait_until("the viewer to play both at their capture size", full_size)
    time.sleep(3)
    for participant in joined:
        assert not participant.page.evaluate("window.__everPaused"), participant.name
