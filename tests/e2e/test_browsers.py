"""Firefox and Chromium in one call: all-Firefox and mixed rooms play every stream, in every mode.

Per mode and line-up (`fff`: three Firefox; `cfc`: Chromium, Firefox,
Chromium), two participants join, the third ~4 s later; then every participant
must play both remote streams steadily (painted frames in nearly every half
second, no freeze, no seek storm) with sound (tests/e2e/playback.py). The
servers are the session's shared ones; one Chromium and one Firefox serve all
line-ups of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.browsers import Browsers
from tests.e2e.call import Participant, join, wait_until
from tests.e2e.firefox import missing_firefox
from tests.e2e.playback import Playback, install_probe, read_playback
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PLAY_TIMEOUT_S = 60.0
WINDOW_S = 4.0


@pytest.fixture(scope="module")
def browsers() -> Iterator[Browsers]:
    problem = missing_firefox()
    if problem:
        pytest.fail(problem)
    with Browsers() as browsers:
        yield browsers


def playing(participants: list[Participant]) -> Callable[[], dict | None]:
    """None until everyone plays everyone else steadily with sound; then the observations."""

    def check() -> dict | None:
        seen: dict[str, dict[str, Playback]] = {}
        ok = True
        for participant in participants:
            others = {p.self_id for p in participants if p is not participant}
            got = read_playback(participant.page, WINDOW_S)
            seen[participant.name] = got
            ok &= set(got) == others and all(
                got[peer].steady() and got[peer].hears() for peer in others
            )
        return seen if ok else None

    return check


def describe(participants: list[Participant], seen: dict[str, dict[str, Playback]]) -> str:
    names = {p.self_id: p.name for p in participants}
    return "; ".join(
        f"{viewer}<{names.get(peer, peer[:4])}: {pb.fps:.1f} fps, {pb.busy_slices}/{pb.slices} "
        f"busy, freeze {pb.longest_freeze_s} s, {pb.seeks} seeks, sound {pb.audio_age_s} s ago"
        for viewer, got in seen.items()
        for peer, pb in got.items()
    )


@pytest.mark.parametrize("lineup", ["fff", "cfc"])
@pytest.mark.parametrize("mode", ["ws", "webrtc", "sfu"])
def test_everyone_plays_both_remote_streams(
    mode: str,
    lineup: str,
    server_for: Callable[[str], ServerProcess],
    browsers: Browsers,
) -> None:
    server = server_for(mode)
    participants: list[Participant] = []
    try:
        for index, kind in enumerate(lineup):
            if index == 2:
                participants[0].page.wait_for_timeout(4000)  # the late joiner
            name = f"{'ABC'[index]}-{'Firefox' if kind == 'f' else 'Chromium'}"
            participant = join(browsers.page(kind), server.url, name)
            install_probe(participant.page)
            participants.append(participant)
        last: list[dict | None] = [None]

        def everyone_plays() -> dict | None:
            last[0] = playing(participants)()
            return last[0]

        try:
            wait_until(
                "every remote stream to play steadily with sound",
                everyone_plays,
                timeout=PLAY_TIMEOUT_S,
                interval=1.0,
            )
        except AssertionError:
            seen = {p.name: read_playback(p.page, WINDOW_S) for p in participants}
            raise AssertionError(
                f"{mode} {lineup}: not everyone plays: {describe(participants, seen)}\n"
                f"{browsers.firefox_log[-3000:]}"
            ) from None
    finally:
        for participant in participants:
            browsers.close_page(participant.page)
