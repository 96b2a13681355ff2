"""Participant state: checked, stored, relayed on change, one screen at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from roomtone import errors
from roomtone.presence import InvalidState, ParticipantState, parse_changes, update
from roomtone.room import Participant, Room


class Inbox:
    """Stands in for a participant's Outbox: collects what it is sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_json(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def send_text(self, text: str) -> None:
        self.messages.append(json.loads(text))

    def take(self) -> list[dict[str, Any]]:
        taken, self.messages = self.messages, []
        return taken


def room_of(*names: str) -> tuple[Room, list[Participant]]:
    room = Room(10)
    people = [room.add(name, Inbox()) for name in names]  # type: ignore[arg-type]
    return room, people


def inbox(participant: Participant) -> Inbox:
    return participant.outbox  # type: ignore[return-value]


def test_fields_are_checked_and_unknown_ones_ignored() -> None:
    assert parse_changes({"type": "state", "mic": False, "wings": 2}) == {"mic": False}
    assert parse_changes({"quality": None, "speaking": True}) == {
        "quality": None,
        "speaking": True,
    }
    for bad in ({"mic": 1}, {"camera": "yes"}, {"screen": None}, {"quality": "great"}):
        with pytest.raises(InvalidState):
            parse_changes(bad)


def test_a_change_is_relayed_to_the_others_with_every_field() -> None:
    room, (ann, ben, cat) = room_of("Ann", "Ben", "Cat")
    update(room, ann, {"type": "state", "mic": False, "quality": "fair"})
    expected = {
        "type": "state",
        "peerId": ann.id,
        "mic": False,
        "camera": True,
        "screen": False,
        "speaking": False,
        "quality": "fair",
    }
    assert inbox(ben).take() == [expected] and inbox(cat).take() == [expected]
    assert inbox(ann).take() == []
    assert ann.state == ParticipantState(mic=False, quality="fair")
    # Partial updates keep the other fields; an update that changes nothing is not relayed.
    update(room, ann, {"type": "state", "mic": False})
    assert inbox(ben).take() == []
    update(room, ann, {"type": "state", "speaking": True})
    assert inbox(ben).take() == [{**expected, "speaking": True}]


def test_a_malformed_state_changes_nothing() -> None:
    room, (ann, ben) = room_of("Ann", "Ben")
    update(room, ann, {"type": "state", "mic": False, "camera": "off"})
    assert inbox(ann).take() == [errors.error(errors.INVALID_STATE)]
    assert inbox(ben).take() == [] and ann.state is None


def test_one_screen_at_a_time() -> None:
    room, (ann, ben) = room_of("Ann", "Ben")
    update(room, ann, {"type": "state", "screen": True})
    inbox(ben).take()
    update(room, ben, {"type": "state", "screen": True, "mic": False})
    assert inbox(ben).take() == [errors.error(errors.SCREEN_TAKEN)]
    assert ben.state == ParticipantState(mic=False, screen=False)  # the rest applied
    update(room, ann, {"type": "state", "screen": False})
    update(room, ben, {"type": "state", "screen": True})
    assert ben.state is not None and ben.state.screen
    assert [m["type"] for m in inbox(ben).take()] == ["state"]  # Ann's change, no error
    assert inbox(ann).take()[-1]["screen"] is True
