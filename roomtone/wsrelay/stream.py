"""One publisher's media stream as the relay keeps it: framed packets, ready to send.

A late joiner needs the initialization segment and then media from a sync
point (a cluster whose first video frame is a keyframe). The stream keeps
both as the very packets already sent to live subscribers, so catching someone
up costs no copying: init packets, then the history since the latest sync
cluster began. History is bounded; when it would grow past the bound it is
dropped and late joiners wait for the next sync point instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from roomtone.wsrelay.framing import packet_header, split_packets
from roomtone.wsrelay.recluster import Reclusterer
from roomtone.wsrelay.webm import DEFAULT_MAX_ELEMENT_BYTES, Piece, WebmError, WebmParser

WEBM_TYPES = frozenset({"video/webm", "audio/webm", "video/x-matroska", "audio/x-matroska"})


class StreamError(ValueError):
    """The publisher's bytes cannot be relayed as a stream (not WebM, or absurd sizes)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """The packets of one piece, for live subscribers.

    `sync`: a sync point was reached with this batch; `history` now starts at
    that cluster (and includes this batch), so waiting subscribers can start.
    """

    packets: list[bytes]
    size: int
    sync: bool = False


def is_webm(mime_type: str) -> bool:
    return mime_type.split(";", 1)[0].strip().lower() in WEBM_TYPES


class PublisherStream:
    """Parses one publisher's chunks and keeps what a late joiner needs."""

    def __init__(
        self,
        peer_id: str,
        mime_type: str,
        *,
        max_packet: int,
        cache_bytes: int,
        max_element_bytes: int = DEFAULT_MAX_ELEMENT_BYTES,
    ) -> None:
        self.peer_id = peer_id
        self.mime_type = mime_type
        self.header = packet_header(peer_id)
        self.max_packet = max_packet
        self.cache_bytes = cache_bytes
        # Anything but WebM is passed through to live subscribers only: it cannot be
        # cut at sync points, so late joiners wait for the publisher's next start.
        self.parser = WebmParser(max_element_bytes) if is_webm(mime_type) else None
        # Every cluster sent starts with a keyframe (Firefox plays no other): recluster.py.
        self.recluster = Reclusterer(self.parser) if self.parser else None
        self.max_init_bytes = max_element_bytes
        self.init_packets: list[bytes] = []
        self.init_bytes = 0
        self.history: list[bytes] | None = None
        self.history_bytes = 0
        self._cluster: list[bytes] | None = None  # current cluster, while it may become sync
        self._cluster_bytes = 0
        self.sent_anything = False
        self.failed = False

    @property
    def ready(self) -> bool:
        """Can a late joiner start now (init segment and a sync-point history exist)?"""
        return self.history is not None

    def catch_up_packets(self) -> list[bytes]:
        """Init segment then history: what a late joiner gets before live packets."""
        return [*self.init_packets, *(self.history or ())]

    def push(self, chunk: bytes) -> Iterator[Batch]:
        """Add a chunk from the publisher; yield what live subscribers get, piece by piece.

        Lazy on purpose: the caller delivers each batch before the next one is added
        to the history, so a subscriber caught up at a sync point gets the history
        exactly up to that batch and the rest live, never twice.
        Raises StreamError (once; the stream then ignores everything).
        """
        if self.failed:
            return
        if self.parser is None:
            packets = split_packets(self.header, chunk, self.max_packet)
            self.sent_anything = True
            yield Batch(packets, sum(map(len, packets)))
            return
        try:
            pieces = self.parser.feed(chunk)
            if self.recluster is not None:
                pieces = self.recluster.feed(pieces)
        except WebmError as exc:
            self._fail()
            raise StreamError(str(exc)) from None
        for piece in pieces:
            try:
                batch = self._add(piece)
            except WebmError as exc:
                self._fail()
                raise StreamError(str(exc)) from None
            self.sent_anything = True
            yield batch

    def _fail(self) -> None:
        self.failed = True
        self.parser = None
        self.init_packets, self.history, self._cluster = [], None, None

    def _add(self, piece: Piece) -> Batch:
        packets = split_packets(self.header, piece.data, self.max_packet)
        size = sum(map(len, packets))
        if piece.init:
            self.init_packets += packets
            self.init_bytes += size
            if self.init_bytes > self.max_init_bytes:
                raise WebmError(f"initialization segment over {self.max_init_bytes} bytes")
            return Batch(packets, size)
        if piece.cluster_start:
            self._cluster, self._cluster_bytes = [], 0
        if piece.sync:
            cluster, total = self._cluster, self._cluster_bytes + size
            self._cluster = None
            if cluster is None or total > self.cache_bytes:  # too big to keep for late joiners
                self.history = None
            else:
                self.history = [*cluster, *packets]
                self.history_bytes = total
            return Batch(packets, size, sync=self.history is not None)
        if self._cluster is not None:
            self._cluster += packets
            self._cluster_bytes += size
            if self._cluster_bytes > self.cache_bytes:
                self._cluster = None
        if self.history is not None:
            self.history += packets
            self.history_bytes += size
            if self.history_bytes > self.cache_bytes:
                self.history = None
        return Batch(packets, size)
