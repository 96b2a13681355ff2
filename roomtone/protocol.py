"""The wire protocol as code: every message type, the server's messages, its close codes.

docs/PROTOCOL.md is the contract. tests/unit/test_protocol_doc.py checks that
the types and closings registered here are exactly the ones documented there,
and that no module builds a message of a type missing from this registry, so
a new message cannot ship undocumented. Error texts live in `errors.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Sent by clients.
JOIN = "join"
# Sent both ways.
ENTROPY = "entropy"
MEDIA_START = "media-start"
MEDIA_STOP = "media-stop"
SIGNAL = "signal"
STATE = "state"
# Sent by the server.
WELCOME = "welcome"
PEER_JOINED = "peer-joined"
PEER_LEFT = "peer-left"
ERROR = "error"
MEDIA_KEYFRAME = "media-keyframe"
VIDEO_PAUSED = "video-paused"
LINK_QUALITY = "link-quality"
LAYERS = "layers"

#: what a client may send; other types are ignored (see signaling.py)
CLIENT_TYPES = frozenset({JOIN, ENTROPY, MEDIA_START, MEDIA_STOP, SIGNAL, STATE})
#: what the server sends
SERVER_TYPES = frozenset(
    {
        WELCOME,
        PEER_JOINED,
        PEER_LEFT,
        ERROR,
        ENTROPY,
        MEDIA_START,
        MEDIA_STOP,
        MEDIA_KEYFRAME,
        SIGNAL,
        STATE,
        VIDEO_PAUSED,
        LINK_QUALITY,
        LAYERS,
    }
)


@dataclass(frozen=True)
class Closing:
    """A WebSocket close the server initiates: the code and the reason it sends."""

    code: int
    reason: str

    @property
    def reason_bytes(self) -> bytes:
        return self.reason.encode()


# 1008 (policy violation): the client should not simply reconnect (the web client does not).
CLOSE_ROOM_FULL = Closing(1008, "Room is full.")
CLOSE_JOIN_TIMEOUT = Closing(1008, "Join timeout.")
CLOSE_RATE_LIMITED = Closing(1008, "Rate limit exceeded.")
CLOSE_NOT_READING = Closing(1008, "Client is not reading.")
CLOSE_UNAUTHORIZED = Closing(1008, "Unauthorized")
# 1001 (going away): the server stops; clients reconnect to the next instance.
CLOSE_SHUTTING_DOWN = Closing(1001, "Server shutting down.")

CLOSINGS = (
    CLOSE_ROOM_FULL,
    CLOSE_JOIN_TIMEOUT,
    CLOSE_RATE_LIMITED,
    CLOSE_NOT_READING,
    CLOSE_UNAUTHORIZED,
    CLOSE_SHUTTING_DOWN,
)


# --- the server's messages ------------------------------------------------------------


def welcome(
    participant_id: str,
    participants: list[dict[str, Any]],
    *,
    ice_servers: list[dict[str, Any]],
    ice_transport_policy: str,
    media_transport: str,
    **transport_fields: Any,
) -> dict[str, Any]:
    """The joiner's `welcome`: its id, who else is here, and how media travels."""
    return {
        "type": WELCOME,
        "id": participant_id,
        "participants": participants,
        "iceServers": ice_servers,
        "iceTransportPolicy": ice_transport_policy,
        "mediaTransport": media_transport,
        **transport_fields,
    }


def peer_joined(peer: dict[str, str]) -> dict[str, Any]:
    return {"type": PEER_JOINED, "peer": peer}


def peer_left(peer_id: str) -> dict[str, Any]:
    return {"type": PEER_LEFT, "peerId": peer_id}


def media_start(peer_id: str, mime_type: str) -> dict[str, Any]:
    return {"type": MEDIA_START, "peerId": peer_id, "mimeType": mime_type}


def media_stop(peer_id: str) -> dict[str, Any]:
    return {"type": MEDIA_STOP, "peerId": peer_id}


def media_keyframe() -> dict[str, Any]:
    """To a ws publisher: someone waits for a keyframe of your stream (record anew)."""
    return {"type": MEDIA_KEYFRAME}


def signal(sender_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A `signal` delivered to its target, stamped with who sent it (a peer id or `sfu`)."""
    return {"type": SIGNAL, "from": sender_id, "data": data}


def state(peer_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A participant's state as relayed to the others: every field, current values."""
    return {"type": STATE, "peerId": peer_id, **fields}


def video_paused(mids: list[str]) -> dict[str, Any]:
    """sfu: the subscriber's receiving video m-lines paused for bandwidth (the full set)."""
    return {"type": VIDEO_PAUSED, "mids": mids}


def link_quality(quality: str, kbps: int) -> dict[str, Any]:
    """sfu: the server's view of the subscriber's downlink (`good`, `fair` or `poor`)."""
    return {"type": LINK_QUALITY, "quality": quality, "kbps": kbps}


def layers(mid: str, active: list[str]) -> dict[str, Any]:
    """sfu: which rids of the publisher's m-line `mid` anyone receives."""
    return {"type": LAYERS, "mid": mid, "active": active}
