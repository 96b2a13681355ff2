"""Three Chromium participants per media mode see and hear each other.

One room per mode carries the whole scenario (the box has two cores):
two participants stream, a third joins ~4 s later, then camera off/on, a
reload that rejoins, and a leave whose tile disappears everywhere.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.call import (
    Participant,
    audio_counter,
    expect_remote_peers,
    join,
    wait_for_remote_media,
    wait_in_call,
    wait_until,
)
from tests.serverproc import ServerProcess, free_port, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENT_ERROR_EVENTS = (
    '"event": "media-error"',
    '"event": "media-rebuild"',
    '"event": "webrtc-error"',
    '"event": "sfu-error"',
    '"event": "server-error"',
)


def is_black_or_frozen(viewer: Participant, peer_id: str) -> bool:
    first = viewer.snapshot(peer_id)
    viewer.page.wait_for_timeout(1200)
    second = viewer.snapshot(peer_id)
    if first is None or second is None:
        return False
    black = second["max"] < 24
    frozen = first["hash"] == second["hash"]
    return black or frozen


def is_live_picture(viewer: Participant, peer_id: str) -> bool:
    first = viewer.snapshot(peer_id)
    viewer.page.wait_for_timeout(800)
    second = viewer.snapshot(peer_id)
    if first is None or second is None:
        return False
    return second["max"] >= 24 and first["hash"] != second["hash"]


def audio_of(viewer: Participant, peer_id: str, mode: str) -> int:
    for video in viewer.remote_videos():
        if video["peer"] == peer_id:
            return audio_counter(video, mode)
    return -1


@pytest.mark.parametrize("mode", ["ws", "webrtc", "sfu"])
def test_three_participants_see_and_hear_each_other(
    mode: str,
    server_for: Callable[[str], ServerProcess],
    new_page: Callable[..., Page],
) -> None:
    server = server_for(mode)
    alice = join(new_page(), server.url, "Alice")
    bob = join(new_page(), server.url, "Bob")
    a_id, b_id = alice.self_id, bob.self_id

    # Step 1: the first two stream to each other.
    wait_for_remote_media(alice, {b_id}, mode)
    wait_for_remote_media(bob, {a_id}, mode)

    # Step 2: a late joiner, ~4 s after the first two started streaming.
    alice.page.wait_for_timeout(4000)
    carol = join(new_page(), server.url, "Carol")
    c_id = carol.self_id
    everyone = {a_id: alice, b_id: bob, c_id: carol}
    for pid, participant in everyone.items():
        wait_for_remote_media(participant, set(everyone) - {pid}, mode)
        expect(participant.page.get_by_test_id("participant-count")).to_have_attribute(
            "data-count", "3"
        )

    # Step 3: Alice turns her camera off: her tile goes black or freezes while her
    # stream keeps flowing (audio still decoded), and comes back when turned on.
    alice.page.get_by_test_id("camera-button").click()
    for viewer in (bob, carol):
        wait_until(
            f"{viewer.name} to see Alice's video black or frozen",
            lambda viewer=viewer: is_black_or_frozen(viewer, a_id),
            timeout=20,
            interval=0.1,
        )
        before = audio_of(viewer, a_id, mode)
        wait_until(
            f"{viewer.name} to keep receiving Alice's audio with her camera off",
            lambda viewer=viewer, before=before: audio_of(viewer, a_id, mode) > before,
            timeout=20,
        )
    alice.page.get_by_test_id("camera-button").click()
    for viewer in (bob, carol):
        wait_until(
            f"{viewer.name} to see Alice's live picture again",
            lambda viewer=viewer: is_live_picture(viewer, a_id),
            timeout=30,
            interval=0.1,
        )

    # Step 4: Bob reloads: he rejoins (new id) and media flows both ways again.
    bob.page.reload()
    wait_in_call(bob.page)
    b2_id = bob.self_id
    assert b2_id != b_id
    wait_for_remote_media(bob, {a_id, c_id}, mode)
    wait_for_remote_media(alice, {b2_id, c_id}, mode)
    wait_for_remote_media(carol, {a_id, b2_id}, mode)

    # Step 5: Carol leaves: her tile goes from the others, the count drops.
    carol.page.get_by_test_id("leave-button").click()
    expect(carol.page.get_by_test_id("join-button")).to_be_visible()
    expect_remote_peers(alice, {b2_id})
    expect_remote_peers(bob, {a_id})
    for participant in (alice, bob):
        expect(participant.page.get_by_test_id("participant-count")).to_have_attribute(
            "data-count", "2"
        )
    wait_for_remote_media(alice, {b2_id}, mode)

    # Nothing went wrong on the client side along the way (client events reach /logs).
    problems = [
        line
        for line in server.output().splitlines()
        if '"source": "client"' in line and any(e in line for e in CLIENT_ERROR_EVENTS)
    ]
    assert not problems, "\n".join(problems)


def test_reconnects_and_rejoins_after_the_server_restarts(built_web_root, new_page) -> None:
    """The socket drops: the client says it is reconnecting, retries with backoff, rejoins
    under the same name, and media flows again (ws mode)."""
    port = free_port()
    env = {
        "MEDIA_TRANSPORT": "ws",
        "ALLOW_INSECURE_HTTP": "true",
        "WEB_ROOT": str(built_web_root),
        "PORT": str(port),
    }
    with running_server(env=env) as first:
        alice = join(new_page(), first.url, "Alice")
        bob = join(new_page(), first.url, "Bob")
        wait_for_remote_media(alice, {bob.self_id}, "ws")
    # The server is gone: both show that they are reconnecting.
    for participant in (alice, bob):
        expect(participant.page.locator(".call")).to_have_attribute("data-phase", "reconnecting")
        expect(participant.page.get_by_test_id("status")).to_contain_text("Reconnecting")
    with running_server(env=env) as second:
        for participant in (alice, bob):
            wait_in_call(participant.page, timeout_ms=30_000)
        wait_until(
            "both to be back in the room under their names",
            lambda: (
                sorted(p["name"] for p in fetch_json(f"{second.url}/participants"))
                == ["Alice", "Bob"]
            ),
            timeout=20,
        )
        wait_for_remote_media(alice, {bob.self_id}, "ws")
        wait_for_remote_media(bob, {alice.self_id}, "ws")
        wait_until(
            "the client to log its rejoin to /logs",
            lambda: '"event": "rejoined"' in second.output(),
            timeout=10,
        )


def fetch_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)
