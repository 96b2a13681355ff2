"""The `ws` transport: MediaRecorder chunks in over the WebSocket, fanned out to everyone else.

The protocol side lives here: `media-start` publishes a participant's stream,
`media-stop` (or leaving) unpublishes it, `welcome` lists the publications
running. Parsing and history are in `stream`, delivery to each subscription
in `fanout`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from roomtone import eventlog, protocol
from roomtone.config import ServerConfig
from roomtone.errors import INVALID_MIME, error
from roomtone.room import Participant, Room
from roomtone.transport import Transport
from roomtone.wsrelay.fanout import Fanout, Publication
from roomtone.wsrelay.keyframes import KeyframeRequests
from roomtone.wsrelay.stream import PublisherStream, StreamError

log = logging.getLogger(__name__)

MIME_MAX_CHARS = 120
_TOKEN = r"[A-Za-z0-9!#$&^_.+\-]+"
_VALUE = rf'(?:"[^"\\\x00-\x1f]*"|{_TOKEN}(?:,\s*{_TOKEN})*)'
MIME_PATTERN = re.compile(rf"{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}={_VALUE})*")


def valid_mime(value: object) -> bool:
    """`type/subtype` plus optional `;name=value` parameters, at most 120 characters."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MIME_MAX_CHARS
        and MIME_PATTERN.fullmatch(value) is not None
    )


class WsRelay(Transport):
    """Media over the signaling WebSocket: no codecs, bytes only."""

    name = "ws"
    messages = frozenset({protocol.MEDIA_START, protocol.MEDIA_STOP})

    def __init__(self, room: Room, config: ServerConfig) -> None:
        super().__init__(room)
        self.config = config
        self.fanout = Fanout(config.wsrelay.queue_bytes)
        self.keyframes = KeyframeRequests()  # media-keyframe to sparse-keyframe publishers

    # --- Transport ---------------------------------------------------------------

    def welcome_fields(self, participant: Participant) -> dict[str, Any]:
        peers = [
            {"id": publication.id, "mimeType": publication.stream.mime_type}
            for publication in self.fanout.publications.values()
            if publication.id != participant.id
        ]
        return {"mediaPeers": peers}

    def on_join(self, participant: Participant) -> None:
        self.fanout.subscribe(participant)
        for publication in self.fanout.publications.values():
            if participant.id in publication.subscriptions:
                self.keyframes.on_join(publication)

    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == protocol.MEDIA_START:
            self.publish(participant, message.get("mimeType"))
        elif kind == protocol.MEDIA_STOP:
            self.unpublish(participant, reason="stop")

    def on_binary(self, participant: Participant, data: bytes) -> None:
        publication = self.fanout.publications.get(participant.id)
        if publication is None or not data:
            return
        stream = publication.stream
        if stream.failed:
            return
        deliver = self.fanout.deliver
        try:
            for batch in stream.push(data):
                deliver(publication, batch)
            self.keyframes.on_media(publication)
        except StreamError as exc:
            log.warning(
                "ignoring the media of %s until its next media-start: %s", participant.id, exc
            )

    def on_leave(self, participant: Participant) -> None:
        self.unpublish(participant, reason="left")
        self.fanout.unsubscribe(participant.id)

    async def close(self) -> None:
        self.fanout.publications.clear()

    # --- media-start / media-stop -------------------------------------------------

    def publish(self, publisher: Participant, mime_type: object) -> Publication | None:
        """`media-start`: (re)start the publisher's stream; everyone present subscribes."""
        if not valid_mime(mime_type):
            publisher.send(error(INVALID_MIME))
            return None
        assert isinstance(mime_type, str)
        # A restart replaces the stream. What is still queued of the old one stays queued,
        # ahead of the new media-start: a client that splices the new stream onto the old
        # one plays it to its end (the publisher sends its last chunk before restarting),
        # and one that rebuilds its MediaSource has only wasted a few bytes.
        self.fanout.unpublish(publisher.id)
        config = self.config
        stream = PublisherStream(
            publisher.id,
            mime_type,
            max_packet=config.ws_max_payload,
            cache_bytes=config.wsrelay.cache_bytes,
        )
        self.room.broadcast(protocol.media_start(publisher.id, mime_type), exclude=publisher.id)
        publication = self.fanout.publish(publisher, stream, self.room.others(publisher.id))
        eventlog.emit("media_start", id=publisher.id, mimeType=mime_type)
        return publication

    def unpublish(self, publisher: Participant, reason: str) -> None:
        """`media-stop` or leaving: end the stream and tell its subscribers."""
        self.keyframes.forget(publisher.id)
        if self.fanout.unpublish(publisher.id) is None:
            return
        self.room.broadcast(protocol.media_stop(publisher.id), exclude=publisher.id)
        eventlog.emit("media_stop", id=publisher.id, reason=reason)
