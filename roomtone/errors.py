"""Every `error` text the server sends, and the message that carries it.

docs/PROTOCOL.md lists these texts; tests/unit/test_protocol_doc.py checks
that the two agree. Clients show them to people, so they are plain sentences.
"""

from __future__ import annotations

from roomtone import protocol

# Session and room (signaling.py)
INVALID_JSON = "Invalid JSON."
INVALID_MESSAGE = "Invalid message."
JOIN_FIRST = "Join first."
NAME_REQUIRED = "Name is required."
ROOM_FULL = "Room is full."
TOO_MANY_MESSAGES = "Too many messages; slow down."
TOO_MUCH_MEDIA = "Too much media data; slow down."
UNAUTHORIZED = "Unauthorized: {reason}"

# Participant state (presence.py)
INVALID_STATE = "Invalid state message."
SCREEN_TAKEN = "Someone else is already sharing a screen."

# Signals (webrtc and sfu modes)
PEER_GONE = "Peer is no longer available."
BAD_SIGNAL = "Invalid signal message."

# ws media
INVALID_MIME = "Invalid media MIME type."

# A message that belongs to another media mode
MEDIA_ONLY_IN_WS = "Media relay is only used in ws mode."
SIGNAL_ONLY_IN_RTC = "Signaling is only used in webrtc and sfu modes."
WRONG_MODE = {
    protocol.SIGNAL: SIGNAL_ONLY_IN_RTC,
    protocol.MEDIA_START: MEDIA_ONLY_IN_WS,
    protocol.MEDIA_STOP: MEDIA_ONLY_IN_WS,
}

# sfu negotiation
PORTS_FULL = "No media ports are free; try again later."
NO_CODEC = "Your browser offered no codec the server can forward (it needs Opus and VP8)."
NEGOTIATION_FAILED = "Media negotiation with the server failed; please rejoin."


def error(text: str) -> dict[str, str]:
    """The `{"type": "error", "message": text}` message."""
    return {"type": protocol.ERROR, "message": text}
