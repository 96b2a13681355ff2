"""Chromium publishing simulcast through the SFU: the server's answer accepts three rid
encodings, Chromium sends them (no SSRCs in its SDP: the packets are bound by their rid
header extension), and the other participants play what the server forwards.

The web client publishes simulcast only when `window.__roomtoneSimulcast` is set
(web/src/transports/sfu/simulcast.ts); this test sets it, with a 640x480 capture
so the encodings differ in size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.call import Participant, join, wait_for_remote_media, wait_until
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIMULCAST_SCRIPT = (
    "window.__roomtoneSimulcast = true; window.__roomtoneVideoConstraints = "
    "{width: {ideal: 640}, height: {ideal: 480}, frameRate: {ideal: 15}};"
)


def outbound(participant: Participant) -> dict[str, Any]:
    debug = participant.page.evaluate("async () => await window.__roomtone.debug()")
    return debug.get("outbound") or {}


def sending_simulcast(participant: Participant) -> dict[str, Any] | None:
    layers = outbound(participant)
    return layers if layers.get("q", {}).get("framesEncoded") else None


def test_chromium_simulcast_is_received_and_forwarded(
    server_for: Callable[[str], ServerProcess], new_page: Callable[..., Page]
) -> None:
    server = server_for("sfu")
    pages = []
    for _ in range(3):
        page = new_page(small_video=False)
        page.context.add_init_script(SIMULCAST_SCRIPT)
        pages.append(page)
    alice, bob, carol = (join(page, server.url, n) for page, n in zip(pages, "ABC", strict=True))
    everyone = {p.self_id: p for p in (alice, bob, carol)}
    for pid, participant in everyone.items():
        wait_for_remote_media(participant, set(everyone) - {pid}, "sfu")
    for participant in everyone.values():
        # The answer accepted the three encodings: Chromium runs one sender per rid, and
        # sends at least the lowest (how many more depends on its own uplink estimate).
        layers = wait_until(
            f"{participant.name} to send simulcast",
            lambda p=participant: sending_simulcast(p),
        )
        assert set(layers) - {"uplink"} == {"q", "h", "f"}, layers
