"""Three Chromium participants A, B and C in one call, C behind a weak link.

The scenario shared by tests/e2e/test_weaklink.py and bench/weaklink.py: join
the three with tests/e2e/mediaprobe.py installed, find C's media on the wire
(`ThreeWayCall.weak_link()`, a tests/netshape.py `Link`), shape it, measure
everyone over the same window, and check what C got and whether A and B were
touched.

C's media, per mode: `sfu` — the server's end of C's selected ICE candidate
pair (one server socket per participant); `webrtc` — C's own UDP candidates
(one socket per mesh link); `ws` — C loads the page from `WEAK_ADDRESS`, a
second loopback address, so everything between C and the server goes through
WEAK_ADDRESS:port (the server must listen on 0.0.0.0: `server_env`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext

from tests.e2e.call import Participant, join, wait_for_remote_media
from tests.e2e.mediaprobe import MediaProbe, MediaReport, RemoteMedia, install, measure
from tests.netshape import Conditions, Direction, Endpoint, Link, LoopbackShaper
from tests.serverproc import ServerProcess

WEAK_ADDRESS = "127.0.0.3"
NAMES = ("A", "B", "C")
WEAK = "C"

ContextFactory = Callable[[], BrowserContext]


def server_env(mode: str, web_root: Path) -> dict[str, str]:
    """Server environment for this scenario: listening on every loopback address."""
    return {
        "MEDIA_TRANSPORT": mode,
        "ALLOW_INSECURE_HTTP": "true",
        "WEB_ROOT": str(web_root),
        "HOST": "0.0.0.0",
    }


@dataclass(frozen=True)
class CallReport:
    """Everyone's MediaReport over one window, with who was who at its end."""

    ids: dict[str, str]  # name -> participant id
    reports: dict[str, MediaReport]

    def got(self, viewer: str, sender: str) -> RemoteMedia | None:
        """What `viewer` got from `sender` (None: no tile for them)."""
        return self.reports[viewer].remote.get(self.ids[sender])

    def describe(self) -> str:
        """One line per viewer and sender, for failure messages and logs."""
        lines = []
        for viewer in NAMES:
            for sender in NAMES:
                got = None if sender == viewer else self.got(viewer, sender)
                if got is not None:
                    audio = "-" if got.audio_concealed is None else f"{got.audio_concealed:.1%}"
                    lines.append(
                        f"{viewer} <- {sender}: {got.fps:.1f} fps painted, "
                        f"{got.decoded_fps:.1f} decoded, frozen {got.frozen:.0%}, "
                        f"{got.resolution}, audio concealed {audio}, "
                        f"{got.kbit_per_s or 0:.0f} kbit/s"
                    )
        return "\n".join(lines)


@dataclass
class ThreeWayCall:
    mode: str
    server: ServerProcess
    participants: dict[str, Participant]
    probes: dict[str, MediaProbe]

    def ids(self) -> dict[str, str]:
        return {name: p.self_id for name, p in self.participants.items()}

    def wait_for_media(self) -> None:
        """Every participant shows the other two, with frames and audio advancing."""
        ids = self.ids()
        for name, participant in self.participants.items():
            wait_for_remote_media(participant, set(ids.values()) - {ids[name]}, self.mode)

    def weak_link(self) -> Link:
        """C's media on the wire, as it is now (it changes if C reconnects)."""
        if self.mode == "ws":
            return Link(far=(Endpoint(WEAK_ADDRESS, self.server.port, "tcp"),))
        rtc = self.probes[WEAK].snapshot()["rtc"]
        if self.mode == "sfu":
            far = {_udp(pair["remote"]) for pair in rtc["selectedPairs"]}
            if not far:
                raise AssertionError(f"{WEAK} has no selected ICE pair to the server yet")
            return Link(far=tuple(sorted(far, key=repr)))
        own = {_udp(c) for c in rtc["localCandidates"] if c and c.get("protocol") == "udp"}
        if not own:
            raise AssertionError(f"{WEAK} has no local UDP candidates yet")
        return Link(own=tuple(sorted(own, key=repr)))

    def measure(self, seconds: float) -> CallReport:
        reports = measure(self.probes, seconds)
        return CallReport(ids=self.ids(), reports=reports)


def _udp(candidate: dict[str, object]) -> Endpoint:
    return Endpoint(str(candidate["address"]), int(str(candidate["port"])), "udp")


def join_three(new_context: ContextFactory, server: ServerProcess, mode: str) -> ThreeWayCall:
    """A, B and C join in turn (C from WEAK_ADDRESS in ws mode); measurable pages."""
    participants: dict[str, Participant] = {}
    probes: dict[str, MediaProbe] = {}
    for name in NAMES:
        context = new_context()
        install(context)
        url = server.url
        if mode == "ws" and name == WEAK:
            url = f"http://{WEAK_ADDRESS}:{server.port}"
        participants[name] = join(context.new_page(), url, name)
        probes[name] = MediaProbe(participants[name].page, mode)
    return ThreeWayCall(mode, server, participants, probes)


@contextmanager
def weak_call(
    new_context: ContextFactory, server: ServerProcess, mode: str
) -> Iterator[tuple[ThreeWayCall, LoopbackShaper]]:
    """A three-way call with media flowing, and the shaper for C's link.

    The shaper opens first, so every connection starts at the link MTU.
    """
    with LoopbackShaper() as net:
        call = join_three(new_context, server, mode)
        call.wait_for_media()
        yield call, net


@dataclass(frozen=True)
class MediaLimits:
    """What "moving video and whole audio" means for one viewer and sender."""

    min_fps: float  # frames decoded per second (what the network delivered)
    max_frozen: float  # share of 0.5 s samples without a newly painted frame
    max_concealed: float  # share of the sender's audio concealed (ws: playback gaps)


def shortfalls(
    report: CallReport, viewer: str, limits: MediaLimits, senders: tuple[str, ...] = NAMES
) -> list[str]:
    """How what `viewer` got from `senders` fell short of `limits` (empty: it did not)."""
    problems = []
    for sender in senders:
        if sender == viewer:
            continue
        got = report.got(viewer, sender)
        if got is None:
            problems.append(f"{viewer} has no tile for {sender}")
            continue
        if got.decoded_fps < limits.min_fps:
            problems.append(f"{viewer} decodes {sender} at {got.decoded_fps:.1f} fps")
        if got.frozen > limits.max_frozen:
            problems.append(f"{viewer} sees {sender} frozen in {got.frozen:.0%} of samples")
        audio = got.audio_concealed
        if audio is None or audio > limits.max_concealed:
            shown = "no audio" if audio is None else f"{audio:.1%} concealed"
            problems.append(f"{viewer} hears {sender} with {shown}")
    return problems


def busy_machine(report: CallReport, limits: MediaLimits) -> str | None:
    """Why this window cannot judge C's link: A and B fell short of `limits` with each other.

    Meaningful only where A and B's media to each other cannot depend on C (the
    `webrtc` mesh: a direct, unshaped link); through a server under test, use
    `expect_untouched` instead, since there a shortfall is a finding, not noise.
    """
    problems = shortfalls(report, "A", limits, ("B",)) + shortfalls(report, "B", limits, ("A",))
    return "; ".join(problems) or None


def weak_downlink(
    call: ThreeWayCall,
    net: LoopbackShaper,
    conditions: Conditions,
    *,
    settle_s: float = 8.0,
    seconds: float = 10.0,
    control: MediaLimits | None = None,
    attempts: int = 3,
) -> CallReport:
    """Cut C's downlink to `conditions`, let everyone adapt, then measure everyone.

    With `control`, a window in which the machine was too busy (`busy_machine`) is
    measured again, up to `attempts` windows; the last one is returned.
    """
    net.limit(call.weak_link(), Direction.DOWN, conditions)
    time.sleep(settle_s)
    report = call.measure(seconds)
    for _ in range(attempts - 1):
        if control is None or busy_machine(report, control) is None:
            break
        report = call.measure(seconds)
    return report


def expect_media(report: CallReport, viewer: str, limits: MediaLimits) -> None:
    """`viewer` got moving video and sound from both others; otherwise fail with the figures.

    The frame rate checked is frames decoded: on a busy machine a headless
    compositor may paint fewer than it decodes; `max_frozen` is about painting.
    """
    problems = shortfalls(report, viewer, limits)
    assert not problems, "; ".join(problems) + "\n" + report.describe()


def expect_untouched(
    report: CallReport,
    baseline: CallReport,
    viewers: tuple[str, ...] = ("A", "B"),
    *,
    min_ratio: float = 0.9,
    same_resolution: bool = False,
) -> None:
    """`viewers` see everyone at >= `min_ratio` of their frame rate in `baseline`.

    Frames decoded, as in `expect_media`: what the network and the server delivered;
    a headless compositor on a busy machine paints fewer (17.8 painted of 19.8 decoded).
    """
    problems = []
    for viewer in viewers:
        for sender in NAMES:
            if sender == viewer:
                continue
            now, before = report.got(viewer, sender), baseline.got(viewer, sender)
            if now is None or before is None:
                problems.append(f"{viewer} lost {sender}'s tile")
                continue
            if now.decoded_fps < min_ratio * before.decoded_fps:
                problems.append(
                    f"{viewer} decodes {sender} at {now.decoded_fps:.1f} fps, "
                    f"was {before.decoded_fps:.1f}"
                )
            if same_resolution and now.width < before.width:
                problems.append(
                    f"{viewer} sees {sender} at {now.resolution}, was {before.resolution}"
                )
    assert not problems, "; ".join(problems) + "\n" + report.describe()
