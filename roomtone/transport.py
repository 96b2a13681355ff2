"""The interface every media transport implements (ws relay, webrtc mesh relay, sfu).

`signaling.py` validates messages and hands each joined participant's
transport-level traffic to exactly one transport chosen at startup; it never
branches on the mode beyond that choice. `lifecycle.py` calls the join and
leave hooks, in the order below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from roomtone.room import Participant, Room


class Transport(ABC):
    """A media path. Calls happen in this order for a participant (lifecycle.py):

    welcome_fields → (welcome sent, peer-joined broadcast) → on_join →
    on_message / on_binary … → on_leave → (removed, peer-left broadcast).
    """

    #: the value of `mediaTransport` in `welcome`
    name: str = ""
    #: the message types this transport handles; signaling answers the others that
    #: belong to another mode with errors.WRONG_MODE and ignores unknown ones
    messages: frozenset[str] = frozenset()

    def __init__(self, room: Room) -> None:
        self.room = room

    def welcome_fields(self, participant: Participant) -> dict[str, Any]:
        """Transport-specific fields merged into this participant's `welcome`."""
        return {"mediaPeers": []}

    def on_join(self, participant: Participant) -> None:  # noqa: B027 - optional hook
        """The participant has been welcomed and announced."""

    @abstractmethod
    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        """A joined participant's message whose type is in `messages`."""

    def on_binary(self, participant: Participant, data: bytes) -> None:  # noqa: B027
        """A binary frame of a joined participant; ignored unless the transport carries media."""

    def on_leave(self, participant: Participant) -> None:  # noqa: B027
        """The participant is leaving; sent before `peer-left` goes out."""

    async def close(self) -> None:  # noqa: B027
        """Server shutdown: release sockets, tasks and connections."""
