"""Firefox and Chromium in one call: all-Firefox and mixed rooms play every stream, in every mode.

Per mode and line-up (`fff`: three Firefox; `cfc`: Chromium, Firefox,
Chromium), two participants join, the third ~4 s later; then every participant
must play both remote streams steadily (painted frames in nearly every half
second, no freeze, no seek storm) with sound (tests/e2e/playback.py). In `ws`
mode every publisher then restarts its recorder a few times (a new WebM
stream each time, as for a keyframe request or a device switch), and every
viewer must continue each new stream on its running MediaSource, without a
freeze. The servers are the session's shared ones; one Chromium and one
Firefox serve all line-ups of this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.browsers import Browsers
from tests.e2e.call import Participant, join, wait_until
from tests.e2e.firefox import missing_firefox
from tests.e2e.playback import Playback, install_probe, read_playback
from tests.e2e.restarts import (
    KEEP_SOCKETS_JS,
    recorder_restarts,
    restart_recorder,
    viewer_tally,
    ws_summary,
)
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PLAY_TIMEOUT_S = 60.0
WINDOW_S = 4.0
RESTART_ROUNDS = 3
RESTART_GAP_S = 1.5  # the client restarts for a keyframe at most once a second
# A splice costs at most the wait for the publisher's new recorder (~0.2 s from
# Chromium, ~0.5 s from Firefox, which starts slowly); a player that rebuilds, or
# waits for a later keyframe, freezes for seconds. A loaded 2-core machine freezes
# streams for up to a second on its own (as Playback.steady() allows), so that is
# the bound, or what the same stream did just before if that was worse.
MAX_FREEZE_S = 1.0


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
            script = KEEP_SOCKETS_JS if mode == "ws" else None
            participant = join(browsers.page(kind, init_script=script), server.url, name)
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
            ws = "".join(f"\n{p.name}: {ws_summary(p.page)}" for p in participants if mode == "ws")
            raise AssertionError(
                f"{mode} {lineup}: not everyone plays: {describe(participants, seen)}{ws}\n"
                f"{browsers.firefox_log[-3000:]}"
            ) from None
        if mode == "ws":
            restarts_are_seamless(participants)
    finally:
        for participant in participants:
            browsers.close_page(participant.page)


def restarts_are_seamless(participants: list[Participant]) -> None:
    """Each publisher records anew a few times; each viewer splices, never rebuilds or freezes.

    Rebuilds and splices are counted exactly. A freeze can also come from the
    machine (a load spike freezes every stream at once), so a round that only
    froze too long is run once more, as the other waits here poll.
    """
    reports = []
    for _ in range(2):
        report, broken, froze = restart_round(participants)
        reports.append("; ".join(report))
        if not broken and not froze:
            return
        if broken:
            break
    raise AssertionError("recorder restarts were not seamless: " + "\n".join(reports))


def restart_round(participants: list[Participant]) -> tuple[list[str], bool, bool]:
    """Every recorder restarts a few times: (report, a count is wrong, a freeze too long)."""
    ids = {p.name: p.self_id for p in participants}
    phase_s = RESTART_ROUNDS * RESTART_GAP_S + 1.0
    before = {p.name: (viewer_tally(p.page), read_playback(p.page, phase_s)) for p in participants}
    restarts0 = {p.name: recorder_restarts(p.page) for p in participants}
    started = time.monotonic()
    for _ in range(RESTART_ROUNDS):
        for publisher in participants:  # a moment apart, as a real call's restarts would be
            restart_recorder(publisher.page)
            time.sleep(RESTART_GAP_S / len(participants))
    time.sleep(max(0.0, started + phase_s - time.monotonic()))  # the last new streams play
    window = time.monotonic() - started
    restarts = {p.name: recorder_restarts(p.page) - restarts0[p.name] for p in participants}
    report, broken, froze = [], False, False
    for viewer in participants:
        tally, seen = viewer_tally(viewer.page), read_playback(viewer.page, window)
        tally0, seen0 = before[viewer.name]
        for publisher in participants:
            if publisher is viewer:
                continue
            peer = ids[publisher.name]
            rebuilds = tally[peer][0] - tally0[peer][0]
            splices = tally[peer][1] - tally0[peer][1]
            pb, pb0 = seen.get(peer), seen0.get(peer)
            before_s = pb0.longest_freeze_s if pb0 else 0.0
            report.append(
                f"{viewer.name}<{publisher.name}: {restarts[publisher.name]} restarts, "
                f"{splices} splices, {rebuilds} rebuilds, "
                + (
                    f"{pb.fps:.1f} fps, freeze {pb.longest_freeze_s} s "
                    f"(before the restarts: {before_s} s)"
                    if pb
                    else "no video"
                )
            )
            broken |= (
                restarts[publisher.name] < RESTART_ROUNDS - 1  # one may fall in the 1 s throttle
                or rebuilds > 0
                or splices < restarts[publisher.name]
                or pb is None
                or pb.frames == 0
            )
            froze |= pb is not None and pb.longest_freeze_s > max(MAX_FREEZE_S, before_s)
    print("\n".join(report))  # with -s: what each viewer did
    return report, broken, froze
