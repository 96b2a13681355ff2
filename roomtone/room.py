"""Who is in the room: the single source of truth for membership.

The room knows participants and how to send them a control message; it knows
nothing about media or transports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from roomtone.outbox import Outbox

if TYPE_CHECKING:
    from roomtone.presence import ParticipantState

NAME_MAX_CHARS = 40


class RoomFull(Exception):
    """The room already holds MAX_PARTICIPANTS."""


# Zero-width joiner: not "printable", but it glues emoji sequences such as families.
_KEEP = frozenset({" ", "\u200d"})


def clean_name(raw: object) -> str:
    """Trim a display name, drop control and format characters (bidi overrides
    included), and cut it to 40 characters, not bytes."""
    if not isinstance(raw, str):
        return ""
    printable = "".join(ch for ch in raw if ch.isprintable() or ch in _KEEP)
    return printable.strip()[:NAME_MAX_CHARS].strip()


@dataclass(eq=False)
class Participant:
    id: str
    name: str
    outbox: Outbox
    #: what the participant last reported (presence.py); None until its first `state`
    state: ParticipantState | None = None

    def send(self, message: dict) -> None:
        self.outbox.send_json(message)

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}

    def introduction(self) -> dict[str, Any]:
        """As `welcome` lists it: `public()`, plus `state` once the participant reported one."""
        entry: dict[str, Any] = self.public()
        if self.state is not None:
            entry["state"] = self.state.fields()
        return entry


class Room:
    """The one room of this server."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._members: dict[str, Participant] = {}

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Participant]:
        return iter(list(self._members.values()))

    def get(self, participant_id: str) -> Participant | None:
        return self._members.get(participant_id)

    def add(self, name: str, outbox: Outbox) -> Participant:
        if len(self._members) >= self.capacity:
            raise RoomFull
        participant_id = str(uuid.uuid4())
        participant = Participant(id=participant_id, name=name, outbox=outbox)
        self._members[participant_id] = participant
        return participant

    def remove(self, participant_id: str) -> Participant | None:
        return self._members.pop(participant_id, None)

    def others(self, participant_id: str) -> list[Participant]:
        return [p for p in self._members.values() if p.id != participant_id]

    def roster(self, exclude: str | None = None) -> list[dict[str, str]]:
        """`{id, name}` of everyone (but `exclude`), in order of joining (`/participants`)."""
        return [p.public() for p in self._members.values() if p.id != exclude]

    def introductions(self, exclude: str) -> list[dict[str, Any]]:
        """Everyone but `exclude` as `welcome` lists them, with their state."""
        return [p.introduction() for p in self._members.values() if p.id != exclude]

    def broadcast(self, message: dict, exclude: str | None = None) -> None:
        """Send one control message to everyone (but `exclude`), serialized once."""
        text = json.dumps(message, separators=(",", ":"))
        for participant in list(self._members.values()):
            if participant.id != exclude:
                participant.outbox.send_text(text)
