"""What each participant shows the others: microphone, camera, screen, speaking, connection.

A client reports its own state with `state` messages (docs/PROTOCOL.md,
Participant state); the room keeps the latest per participant, relays each
change to everyone else, and late joiners find it in `welcome`. This is room
business, the same in every media mode: no transport sees these messages.

Only the sender knows whether its microphone is on or whether it is talking,
so the server trusts what it is told and checks only the shape. The one rule
it enforces is that a single participant shares a screen at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from roomtone import protocol
from roomtone.errors import INVALID_STATE, SCREEN_TAKEN, error
from roomtone.room import Participant, Room

QUALITIES = frozenset({"good", "fair", "poor"})
FLAGS = ("mic", "camera", "screen", "speaking")


@dataclass(frozen=True, slots=True)
class ParticipantState:
    """One participant's reported state; the defaults are those of a client that never reports."""

    mic: bool = True
    camera: bool = True
    screen: bool = False
    speaking: bool = False
    quality: str | None = None  # "good" | "fair" | "poor"; None: not reported

    def fields(self) -> dict[str, Any]:
        return {
            "mic": self.mic,
            "camera": self.camera,
            "screen": self.screen,
            "speaking": self.speaking,
            "quality": self.quality,
        }


class InvalidState(ValueError):
    """A `state` message whose fields do not have the documented types."""


def parse_changes(message: dict[str, Any]) -> dict[str, Any]:
    """The known fields present in `message`, checked; unknown fields are ignored."""
    changes: dict[str, Any] = {}
    for flag in FLAGS:
        if flag in message:
            value = message[flag]
            if not isinstance(value, bool):
                raise InvalidState(flag)
            changes[flag] = value
    if "quality" in message:
        quality = message["quality"]
        if quality is not None and quality not in QUALITIES:
            raise InvalidState("quality")
        changes["quality"] = quality
    return changes


def screen_holder(room: Room) -> Participant | None:
    """Who shares a screen now (at most one participant)."""
    for participant in room:
        if participant.state is not None and participant.state.screen:
            return participant
    return None


def update(room: Room, participant: Participant, message: dict[str, Any]) -> None:
    """Apply a `state` message: store the new state, and relay it if anything changed.

    A malformed message changes nothing. `screen: true` while someone else
    shares is refused (the sender keeps not sharing) and the rest applies.
    """
    try:
        changes = parse_changes(message)
    except InvalidState:
        participant.send(error(INVALID_STATE))
        return
    if changes.get("screen"):
        holder = screen_holder(room)
        if holder is not None and holder is not participant:
            participant.send(error(SCREEN_TAKEN))
            changes["screen"] = False
    before = participant.state
    after = replace(before or ParticipantState(), **changes)
    participant.state = after
    if after != before:
        room.broadcast(protocol.state(participant.id, after.fields()), exclude=participant.id)
