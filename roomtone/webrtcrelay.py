"""The `webrtc` transport: a browser mesh; the server only relays `signal` messages."""

from __future__ import annotations

from typing import Any

from roomtone.room import Participant, Room
from roomtone.transport import Transport

PEER_GONE = "Peer is no longer available."
BAD_SIGNAL = "Invalid signal message."


def relay_signal(room: Room, sender: Participant, message: dict[str, Any]) -> None:
    """Forward `data` to the participant named in `to`, stamped with the sender's id."""
    target_id, data = message.get("to"), message.get("data")
    if not isinstance(target_id, str) or not isinstance(data, dict):
        sender.send({"type": "error", "message": BAD_SIGNAL})
        return
    target = room.get(target_id)
    if target is None or target is sender:
        sender.send({"type": "error", "message": PEER_GONE})
        return
    target.send({"type": "signal", "from": sender.id, "data": data})


class WebRtcRelay(Transport):
    name = "webrtc"

    def __init__(self, room: Room) -> None:
        super().__init__(room)

    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        if message["type"] == "signal":
            relay_signal(self.room, participant, message)
        else:
            participant.send({"type": "error", "message": "Media relay is only used in ws mode."})
