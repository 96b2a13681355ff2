"""The publisher side of one connection: client m-lines the server receives.

Each audio or video m-line a client offers becomes a Publication (what one
participant publishes: one track). The server answers it recvonly with the
forwardable codecs only, the connection's media side takes over its receiver,
and once negotiated as receiving it is published to the Hub, so the other
participants subscribe to it (subscribing.py). It is unpublished when the
client stops sending on it, or leaves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from aiortc import RTCPeerConnection, RTCRtpTransceiver

from roomtone.sfu import sdp as sdptext
from roomtone.sfu.media import Feed, MediaConnection, codec_preferences

# Per participant and kind; further m-lines of a client offer are answered inactive.
MAX_PUBLISHED_PER_KIND = 2


class Hub(Protocol):
    """The room's publications (SfuTransport): who may subscribe to what."""

    def publish(self, publication: Publication) -> None: ...

    def unpublish(self, publication: Publication) -> None: ...

    def publications_for(self, subscriber_id: str) -> list[Publication]:
        """Every publication `subscriber_id` should receive, in publication order."""
        ...


class Publication:
    """One published track: its publisher, its receiving m-line, and the strategy's feed."""

    def __init__(
        self, publisher_id: str, kind: str, transceiver: RTCRtpTransceiver, source: str = ""
    ) -> None:
        self.publisher_id = publisher_id
        self.kind = kind
        self.transceiver = transceiver
        self.source = source  # "screen", or "" for a camera or microphone
        self.live = False  # published: subscribers may attach
        self.feed: Feed | None = None

    def __repr__(self) -> str:
        return f"Publication({self.publisher_id[:8]} {self.kind} mid={self.transceiver.mid})"

    def end(self) -> None:
        """Unpublished: the feed lets go of its subscribers."""
        self.live = False
        if self.feed is not None:
            self.feed.close()


class Publishing:
    """One connection's publications, kept in step with what its client sends."""

    def __init__(self, publisher_id: str, hub: Hub, media: MediaConnection) -> None:
        self.publisher_id = publisher_id
        self.hub = hub
        self.media = media
        self.publications: list[Publication] = []

    def prepare(
        self, pc: RTCPeerConnection, sdp: str, sources: Mapping[str, str] | None = None
    ) -> None:
        """Before applying a client offer: a recvonly transceiver for each new m-line.

        aiortc matches a remote m-line to an existing transceiver of that kind
        without a mid, so codec preferences (and the strategy's receiver) are
        in place before it negotiates. `sources` labels m-lines by mid (the
        offer's `tracks`: which one is a shared screen); a label is fixed when
        its m-line is first offered.
        """
        sources = sources or {}
        known = {t.mid for t in pc.getTransceivers() if t.mid is not None}
        counts = Counter(publication.kind for publication in self.publications)
        for section in sdptext.media_sections(sdp):
            if section.kind not in ("audio", "video") or section.mid in known:
                continue
            transceiver = pc.addTransceiver(section.kind, direction="recvonly")
            transceiver.setCodecPreferences(codec_preferences(section.kind))
            counts[section.kind] += 1
            if counts[section.kind] > MAX_PUBLISHED_PER_KIND:
                transceiver.direction = "inactive"
            source = sources.get(section.mid, "") if section.mid is not None else ""
            publication = Publication(self.publisher_id, section.kind, transceiver, source)
            publication.feed = self.media.receive(publication)
            self.publications.append(publication)

    def update(self) -> None:
        """Publish what is now received, unpublish what no longer is (after an answer)."""
        for publication in self.publications:
            receiving = publication.transceiver.currentDirection in ("recvonly", "sendrecv")
            if receiving and not publication.live:
                publication.live = True
                self.hub.publish(publication)
            elif not receiving and publication.live:
                self._unpublish(publication)

    def drop(self) -> None:
        """The connection is going away: unpublish everything."""
        for publication in self.publications:
            if publication.live:
                self._unpublish(publication)
            else:
                publication.end()

    def _unpublish(self, publication: Publication) -> None:
        publication.end()
        self.hub.unpublish(publication)
