"""Slot allocation: which server m-line carries which publication, without aiortc."""

from __future__ import annotations

from dataclasses import dataclass, field

from roomtone.sfu.publishing import Publication
from roomtone.sfu.subscribing import Subscribing


@dataclass
class FakeTransceiver:
    mid: str
    direction: str = "sendonly"


@dataclass(eq=False)
class FakeLine:
    kind: str
    transceiver: FakeTransceiver
    attached: Publication | None = None

    def attach(self, publication: Publication) -> None:
        self.attached = publication

    def detach(self) -> None:
        self.attached = None


@dataclass
class FakeDownlink:
    lines: list[FakeLine] = field(default_factory=list)
    closed: bool = False

    def add_line(self, kind: str) -> FakeLine:
        line = FakeLine(kind, FakeTransceiver(str(len(self.lines))))
        self.lines.append(line)
        return line

    def close(self) -> None:
        self.closed = True


def published(publisher: str, kind: str) -> Publication:
    publication = Publication(publisher, kind, FakeTransceiver("x"))  # type: ignore[arg-type]
    publication.live = True
    return publication


def test_new_publications_are_offered_then_attached_once_answered() -> None:
    downlink = FakeDownlink()
    subs = Subscribing(downlink)
    audio, video = published("ann", "audio"), published("ann", "video")
    assert subs.update([audio, video])
    assert subs.tracks() == [
        {"mid": "0", "peerId": "ann", "kind": "audio"},
        {"mid": "1", "peerId": "ann", "kind": "video"},
    ]
    assert [line.attached for line in downlink.lines] == [None, None]  # not before the answer
    assert not subs.answered()
    assert [line.attached for line in downlink.lines] == [audio, video]
    assert not subs.update([audio, video])  # nothing changed: no offer


def test_a_freed_slot_is_reused_for_the_next_publication_of_its_kind() -> None:
    downlink = FakeDownlink()
    subs = Subscribing(downlink)
    ann, ben = published("ann", "video"), published("ben", "video")
    subs.update([ann, ben])
    subs.answered()
    ann.end()
    assert subs.update([ben])
    first = downlink.lines[0]
    assert first.attached is None and first.transceiver.direction == "inactive"
    assert subs.tracks() == [{"mid": "1", "peerId": "ben", "kind": "video"}]
    subs.answered()
    cat = published("cat", "video")
    assert subs.update([ben, cat])
    assert len(downlink.lines) == 2  # SDP does not grow
    assert first.transceiver.direction == "sendonly"
    subs.answered()
    assert first.attached is cat


def test_a_publication_that_ends_during_the_offer_is_not_attached() -> None:
    downlink = FakeDownlink()
    subs = Subscribing(downlink)
    ann = published("ann", "audio")
    subs.update([ann])
    ann.end()
    assert subs.answered()  # another offer is due
    assert downlink.lines[0].attached is None
    assert subs.update([])
    assert downlink.lines[0].transceiver.direction == "inactive" and subs.tracks() == []


def test_clear_detaches_everything() -> None:
    downlink = FakeDownlink()
    subs = Subscribing(downlink)
    subs.update([published("ann", "audio"), published("ben", "video")])
    subs.answered()
    subs.clear()
    assert all(line.attached is None for line in downlink.lines) and downlink.closed
    assert subs.tracks() == []


def test_a_shared_screen_is_labelled_in_tracks() -> None:
    subs = Subscribing(FakeDownlink())
    camera, screen = published("ann", "video"), published("ann", "video")
    screen.source = "screen"
    subs.update([camera, screen])
    assert subs.tracks() == [
        {"mid": "0", "peerId": "ann", "kind": "video"},
        {"mid": "1", "peerId": "ann", "kind": "video", "source": "screen"},
    ]
