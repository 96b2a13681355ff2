"""Chromium publishing simulcast through the SFU: the server's answer accepts the rid
encodings, Chromium sends them (no SSRCs in its SDP: the packets are bound by their rid
header extension), and the other participants play what the server forwards.

The web client publishes simulcast by default in sfu mode, as many layers as the capture
size allows (web/src/transports/sfu/simulcast.ts): q, h and f from 960x540, h and f at
the app's 640x480. A and B capture 960x540 here, C 640x480.
"""

from __future__ import annotations

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
