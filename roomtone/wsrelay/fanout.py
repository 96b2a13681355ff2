"""Delivery of every running stream to every other participant, within a memory bound.

For each (publisher, recipient) pair the recipient is LIVE (gets each batch as
it comes) or WAITING (gets nothing until the stream's next sync point, then the
init segment and history, then live batches). Each socket has its own Outbox
and writer task, so a slow recipient only ever delays itself; this module
makes sure it also cannot grow server memory: when a recipient's queued media
would pass `queue_bytes`, its backlog is discarded and it skips ahead to the
next sync point, announced by a fresh `media-start` so its client rebuilds
its MediaSource (it may have received half a cluster).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from roomtone.outbox import Outbox
from roomtone.room import Participant
from roomtone.wsrelay.stream import Batch, PublisherStream

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Subscriber:
    participant: Participant
    live: bool
    # WAITING because its backlog was discarded: its client must hear media-start again.
    restart: bool = False
    skips: int = 0


@dataclass(eq=False)
class Publication:
    """A running stream and, per other participant, whether it is live or waiting."""

    publisher: Participant
    stream: PublisherStream
    subscribers: dict[str, Subscriber] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.publisher.id

    def media_start_text(self) -> str:
        message = {"type": "media-start", "peerId": self.id, "mimeType": self.stream.mime_type}
        return json.dumps(message, separators=(",", ":"))


class Fanout:
    """All publications, and the per-recipient bound shared across them."""

    def __init__(self, queue_bytes: int) -> None:
        self.queue_bytes = queue_bytes
        self.publications: dict[str, Publication] = {}
        self.skips = 0  # times a recipient skipped ahead, for tests and debugging

    def start(
        self, publisher: Participant, stream: PublisherStream, audience: list[Participant]
    ) -> Publication:
        """A new stream; everyone present now sees it from its first byte (LIVE)."""
        publication = Publication(publisher, stream)
        for participant in audience:
            if participant.id != publisher.id:
                publication.subscribers[participant.id] = Subscriber(participant, live=True)
        self.publications[publisher.id] = publication
        return publication

    def stop(self, publisher_id: str, *, discard: bool = False) -> Publication | None:
        publication = self.publications.pop(publisher_id, None)
        if publication is not None and discard:
            for subscriber in publication.subscribers.values():
                subscriber.participant.outbox.discard(publisher_id)
        return publication

    def add_recipient(self, participant: Participant) -> None:
        """A late joiner: start it on every stream at once if possible, else wait."""
        for publication in self.publications.values():
            if publication.id == participant.id:
                continue
            stream = publication.stream
            subscriber = Subscriber(participant, live=not stream.sent_anything)
            publication.subscribers[participant.id] = subscriber
            if stream.ready:
                self._catch_up(publication, subscriber)

    def remove_participant(self, participant_id: str) -> None:
        for publication in self.publications.values():
            publication.subscribers.pop(participant_id, None)

    def deliver(self, publication: Publication, batch: Batch) -> None:
        """The hot path: queue one batch (the same packet objects) to every live recipient."""
        key = publication.id
        size = batch.size
        packets = batch.packets
        for subscriber in publication.subscribers.values():
            if not subscriber.live:
                continue
            outbox = subscriber.participant.outbox
            if not self._fits(outbox, size):
                self._skip(subscriber.participant)
                if not subscriber.live or not self._fits(outbox, size):
                    self._mark_waiting(subscriber)
                    continue
            for packet in packets:
                outbox.send_binary(key, packet)
        if batch.sync:
            for subscriber in publication.subscribers.values():
                if not subscriber.live:
                    self._catch_up(publication, subscriber)

    def _fits(self, outbox: Outbox, size: int) -> bool:
        # An empty queue always takes a batch, so one large piece cannot stall a recipient.
        queued = outbox.media_bytes()
        return queued == 0 or queued + size <= self.queue_bytes

    def _catch_up(self, publication: Publication, subscriber: Subscriber) -> None:
        """Init segment + history, then LIVE; the history packets are shared, not copied."""
        outbox = subscriber.participant.outbox
        if subscriber.restart:
            outbox.send_text(publication.media_start_text())
            subscriber.restart = False
        key = publication.id
        for packet in publication.stream.catch_up_packets():
            outbox.send_binary(key, packet)
        subscriber.live = True

    def _mark_waiting(self, subscriber: Subscriber) -> None:
        if subscriber.live:
            subscriber.live = False
            subscriber.restart = True
            subscriber.skips += 1

    def _skip(self, recipient: Participant) -> None:
        """The recipient fell behind: drop its queued media of every stream it has a backlog of."""
        outbox = recipient.outbox
        dropped_total = 0
        streams = 0
        for publication in self.publications.values():
            subscriber = publication.subscribers.get(recipient.id)
            if subscriber is None or not subscriber.live:
                continue
            dropped = outbox.discard(publication.id)
            if dropped:
                dropped_total += dropped
                streams += 1
                self._mark_waiting(subscriber)
        self.skips += 1
        log.debug(
            "recipient %s fell behind: dropped %d queued bytes of %d stream(s); "
            "it resumes at the next sync point",
            recipient.id,
            dropped_total,
            streams,
        )
