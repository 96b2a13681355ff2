"""A publication's feed in the packet strategy: its layers, lowest first.

A track published without simulcast has one layer (0); a simulcast one has a
layer per rid, in simulcast.layer_order. Each layer is an InboundStream whose
sinks are the subscriber lines forwarding it, or waiting for its next
keyframe to switch to it. Keyframe requests (PLI) are per layer and
rate-limited per layer. `wanted()` says which rids any subscriber needs (the
allocations tell it through `want`), for the `layers` message to the
publisher (uplink.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from roomtone.sfu.inbound import InboundStream, Uplink
from roomtone.sfu.keyframes import KeyframeRequester
from roomtone.sfu.simulcast import layer_order

if TYPE_CHECKING:
    from roomtone.sfu.publishing import Publication
    from roomtone.sfu.sdpmedia import RtpSection

# Bitrates assumed for a layer not measured yet (bits/s), by rid; else by position.
NOMINAL_BITRATE = {"q": 150_000, "h": 500_000, "f": 1_500_000}
NOMINAL_BY_LAYER = (150_000, 500_000, 1_500_000)
FLOWING_WITHIN = 1.0  # seconds since a layer's last packet for it to count as available


class KeyframeUplink(Uplink, Protocol):
    def send_pli(self, stream: InboundStream) -> None: ...


class Layers:
    """Feed: the InboundStreams of one publication (see the module docstring)."""

    def __init__(self, publication: Publication, uplink: KeyframeUplink) -> None:
        self.publication = publication
        self.key = f"{publication.publisher_id}/{id(self):x}"  # the allocator's publication key
        self.kind = publication.kind
        self.uplink = uplink
        self.rids: list[str] = []  # lowest layer first
        self.offered_rids: list[str] = []  # in the client's order (its a=simulcast)
        self.media_pts: set[int] = set()
        self.rtx_pts: set[int] = set()
        self.closed = False
        self.demand: dict[object, frozenset[int]] = {}  # per subscriber line (see want)
        self.streams: list[InboundStream] = []
        self._keyframes: list[KeyframeRequester] = []
        self._set_layers([None])

    def __repr__(self) -> str:
        return f"Layers({self.publication!r} {self.rids or 'single'})"

    def _set_layers(self, rids: list[str | None]) -> None:
        for requester in self._keyframes:
            requester.cancel()
        self.streams = [
            InboundStream(self.uplink, self.kind, index, rid) for index, rid in enumerate(rids)
        ]
        self._keyframes = [
            KeyframeRequester(lambda stream=stream: self.uplink.send_pli(stream))
            for stream in self.streams
        ]

    def configure(self, section: RtpSection) -> None:
        """The client's offer for this m-line is negotiated: its payload types and rids."""
        codec = "vp8" if self.kind == "video" else "opus"
        self.media_pts = {pt for pt, name in section.codecs.items() if name == codec}
        self.rtx_pts = {rtx for rtx, apt in section.apt.items() if apt in self.media_pts}
        if section.rids:
            self.offered_rids = list(section.rids)
        rids = layer_order(section.rids)
        if rids and rids != self.rids and not any(s.ssrc for s in self.streams):
            self.rids = rids
            self._set_layers(list(rids))

    def layer_of(self, rid: str) -> int | None:
        return self.rids.index(rid) if rid in self.rids else None

    @property
    def simulcast(self) -> bool:
        return bool(self.rids)

    def request_keyframe(self, layer: int) -> None:
        """A subscriber line needs a keyframe of `layer` (rate-limited per layer)."""
        if self.kind == "video" and not self.closed and 0 <= layer < len(self._keyframes):
            self._keyframes[layer].request()

    def bitrates(self, now: float) -> list[float | None]:
        """Per layer, lowest first, its measured bits/s, or None when it is not arriving.

        A layer that just started arriving and is not measured yet counts at a
        nominal rate, so the allocation does not take it for free.
        """
        rates: list[float | None] = []
        for stream in self.streams:
            if not stream.flowing(now, FLOWING_WITHIN):
                rates.append(None)
            else:
                rates.append(stream.bitrate or self._nominal(stream))
        return rates

    def _nominal(self, stream: InboundStream) -> float:
        if stream.rid in NOMINAL_BITRATE:
            return NOMINAL_BITRATE[stream.rid]
        return NOMINAL_BY_LAYER[min(stream.layer, len(NOMINAL_BY_LAYER) - 1)]

    def want(self, line: object, layers: set[int]) -> None:
        """`line`'s allocation receives, is about to, or would fit these layers."""
        self.demand[line] = frozenset(layers)

    def forget(self, line: object) -> None:
        self.demand.pop(line, None)

    def wanted(self) -> list[str]:
        """The rids anyone needs encoded: what lines receive, wait for or would fit, and
        the lowest layer while anyone subscribes (a paused line resumes on it)."""
        if not self.demand and not any(s.sinks for s in self.streams):
            return []
        layers = {0}.union(*self.demand.values())
        layers.update(s.layer for s in self.streams if s.sinks)
        return [s.rid for s in self.streams if s.layer in layers and s.rid is not None]

    def close(self) -> None:
        """Unpublished: every line lets go of this feed."""
        self.closed = True
        for requester in self._keyframes:
            requester.cancel()
        for stream in self.streams:
            for sink in stream.sinks:
                sink.detach()
            stream.sinks = ()
        self.demand.clear()
