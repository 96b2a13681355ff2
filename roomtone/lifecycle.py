"""Joining and leaving the room, in the one order every transport relies on.

join: admit (the room assigns an id, or refuses: RoomFull) → welcome (queued
to the joiner, with the transport's fields) → announce (`peer-joined` to the
others) → event log → hand to the transport (`on_join`). Nothing awaits in
between, so a late joiner's `welcome` always precedes whatever the transport
queues for it (ws mode: the history of running streams).

leave: the transport first (`on_leave`; ws mode sends `media-stop`) → remove
from the room → `peer-left` to the others → event log.

The socket session (signaling.py) and the transport tests both go through
this class, so the order has exactly one owner. The room itself only knows
who is present.
"""

from __future__ import annotations

from typing import Any

from roomtone import eventlog, protocol
from roomtone.config import ServerConfig
from roomtone.outbox import Outbox
from roomtone.room import Participant, Room
from roomtone.transport import Transport


class RoomLifecycle:
    """Admits participants into the room and lets them leave, telling everyone in order."""

    def __init__(self, config: ServerConfig, room: Room, transport: Transport) -> None:
        self.config = config
        self.room = room
        self.transport = transport

    def join(self, name: str, outbox: Outbox) -> Participant:
        """Admit `name` (already cleaned) whose messages go to `outbox`; raises RoomFull."""
        room = self.room
        participant = room.add(name, outbox)
        participant.send(self.welcome(participant))
        room.broadcast(protocol.peer_joined(participant.public()), exclude=participant.id)
        eventlog.emit("joined", id=participant.id, participants=len(room))
        self.transport.on_join(participant)
        return participant

    def leave(self, participant: Participant) -> None:
        """The participant's socket is gone (or closing); safe to call once per join."""
        room = self.room
        self.transport.on_leave(participant)
        room.remove(participant.id)
        room.broadcast(protocol.peer_left(participant.id))
        eventlog.emit("left", id=participant.id, participants=len(room))

    def welcome(self, participant: Participant) -> dict[str, Any]:
        return protocol.welcome(
            participant.id,
            self.room.introductions(exclude=participant.id),
            ice_servers=list(self.config.ice_servers),
            ice_transport_policy=self.config.ice_transport_policy,
            media_transport=self.transport.name,
            **self.transport.welcome_fields(participant),
        )
