"""Delivery of every publication to every subscriber, within a memory bound.

A publication is one participant's running WebM stream; a subscription is one
other participant's receipt of it. Each subscription is LIVE (gets each batch
as it comes) or WAITING (gets nothing until the stream's next sync point, then
the init segment and history, then live batches). Each socket has its own
Outbox and writer task, so a slow subscriber only ever delays itself; this
module makes sure it also cannot grow server memory: when a subscriber's
queued media would pass `queue_bytes`, its backlog is discarded and it skips
ahead to the next sync point, announced by a fresh `media-start` so its client
starts that stream anew, from its init segment (it may have received half a
cluster).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from roomtone import protocol
from roomtone.outbox import Outbox
from roomtone.room import Participant
from roomtone.wsrelay.stream import Batch, PublisherStream

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Subscription:
    """One subscriber's receipt of one publication."""

    subscriber: Participant
    live: bool
    # WAITING because its backlog was discarded: its client must hear media-start again.
    restart: bool = False


@dataclass(eq=False)
class Publication:
    """A running stream and its subscriptions, by subscriber id."""

    publisher: Participant
    stream: PublisherStream
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.publisher.id

    def media_start_text(self) -> str:
        message = protocol.media_start(self.id, self.stream.mime_type)
        return json.dumps(message, separators=(",", ":"))


class Fanout:
    """All publications, and the per-subscriber bound shared across them."""

    def __init__(self, queue_bytes: int) -> None:
        self.queue_bytes = queue_bytes
        self.publications: dict[str, Publication] = {}

    def publish(
        self, publisher: Participant, stream: PublisherStream, audience: list[Participant]
    ) -> Publication:
        """A new stream; everyone present now subscribes from its first byte (LIVE)."""
        publication = Publication(publisher, stream)
        for participant in audience:
            if participant.id != publisher.id:
                publication.subscriptions[participant.id] = Subscription(participant, live=True)
        self.publications[publisher.id] = publication
        return publication

    def unpublish(self, publisher_id: str) -> Publication | None:
        """End a publication; what its subscribers have queued of it is still sent."""
        return self.publications.pop(publisher_id, None)

    def subscribe(self, participant: Participant) -> None:
        """A newcomer subscribes to every publication: at once where it can, else it waits."""
        for publication in self.publications.values():
            if publication.id == participant.id:
                continue
            stream = publication.stream
            subscription = Subscription(participant, live=not stream.sent_anything)
            publication.subscriptions[participant.id] = subscription
            if stream.ready:
                self._catch_up(publication, subscription)

    def unsubscribe(self, participant_id: str) -> None:
        """A participant left: drop its subscriptions to every publication."""
        for publication in self.publications.values():
            publication.subscriptions.pop(participant_id, None)

    def deliver(self, publication: Publication, batch: Batch) -> None:
        """The hot path: queue one batch (the same packet objects) to every live subscriber."""
        key = publication.id
        size = batch.size
        packets = batch.packets
        for subscription in publication.subscriptions.values():
            if not subscription.live:
                continue
            outbox = subscription.subscriber.outbox
            if not self._fits(outbox, size):
                self._skip(subscription.subscriber)
                if not subscription.live or not self._fits(outbox, size):
                    self._mark_waiting(subscription)
                    continue
            for packet in packets:
                outbox.send_binary(key, packet)
        if batch.sync:
            for subscription in publication.subscriptions.values():
                if not subscription.live:
                    self._catch_up(publication, subscription)

    def _fits(self, outbox: Outbox, size: int) -> bool:
        # An empty queue always takes a batch, so one large piece cannot stall a subscriber.
        queued = outbox.media_bytes()
        return queued == 0 or queued + size <= self.queue_bytes

    def _catch_up(self, publication: Publication, subscription: Subscription) -> None:
        """Init segment + history, then LIVE; the history packets are shared, not copied."""
        outbox = subscription.subscriber.outbox
        if subscription.restart:
            outbox.send_text(publication.media_start_text())
            subscription.restart = False
        key = publication.id
        for packet in publication.stream.catch_up_packets():
            outbox.send_binary(key, packet)
        subscription.live = True

    def _mark_waiting(self, subscription: Subscription) -> None:
        if subscription.live:
            subscription.live = False
            subscription.restart = True

    def _skip(self, subscriber: Participant) -> None:
        """The subscriber fell behind: drop its queued media of every publication it lags on."""
        outbox = subscriber.outbox
        dropped_total = 0
        streams = 0
        for publication in self.publications.values():
            subscription = publication.subscriptions.get(subscriber.id)
            if subscription is None or not subscription.live:
                continue
            dropped = outbox.discard(publication.id)
            if dropped:
                dropped_total += dropped
                streams += 1
                self._mark_waiting(subscription)
        log.debug(
            "subscriber %s fell behind: dropped %d queued bytes of %d stream(s); "
            "it resumes at the next sync point",
            subscriber.id,
            dropped_total,
            streams,
        )
