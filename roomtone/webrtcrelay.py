"""The `webrtc` transport: a browser mesh; the server only relays `signal` messages."""

from __future__ import annotations

from typing import Any

from roomtone import protocol
from roomtone.errors import BAD_SIGNAL, PEER_GONE, error
from roomtone.room import Participant, Room
from roomtone.transport import Transport


def relay_signal(room: Room, sender: Participant, message: dict[str, Any]) -> None:
    """Forward `data` to the participant named in `to`, stamped with the sender's id."""
    target_id, data = message.get("to"), message.get("data")
    if not isinstance(target_id, str) or not isinstance(data, dict):
        sender.send(error(BAD_SIGNAL))
        return
    target = room.get(target_id)
    if target is None or target is sender:
        sender.send(error(PEER_GONE))
        return
    target.send(protocol.signal(sender.id, data))


class WebRtcRelay(Transport):
    name = "webrtc"
    messages = frozenset({protocol.SIGNAL})

    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        relay_signal(self.room, participant, message)
