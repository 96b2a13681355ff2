"""The media strategy: what flows through the m-lines that PeerSession negotiates.

PeerSession decides which m-lines exist and which publication each
subscriber m-line carries; a MediaStrategy decides how media gets from a
publisher's m-line to those subscriber m-lines. SfuTransport takes one
strategy for the whole room. The default, ForwardingStrategy
(forwarding.py), forwards encoded frames without decoding;
bench/refserver.py supplies a transcoding one as a benchmark reference.

The roles:

- `MediaStrategy.receive(publication)`: take over the receiver of a
  publisher's m-line (before it is negotiated) and return its `Feed`, the
  publication's fan-out that subscriber lines attach to.
- `MediaStrategy.downlink(pc)`: the sending side of one subscriber's
  connection. Anything that concerns all of a subscriber's lines together
  lives here (for simulcast: the bandwidth estimate and which layer each line
  gets, audio first).
- `Downlink.add_line(kind)`: a new sendonly m-line (`OutgoingLine`); lines
  are reused for later publications of the same kind, never removed.
- `OutgoingLine.attach(publication)` / `detach()`: start and stop sending a
  publication on that line (a subscription, in media terms).

A strategy may move frames, packets or simulcast layers; nothing outside
it depends on which. A Feed holding several layers with a Downlink that picks
one per line from its own bandwidth estimate fits here, as does a
packet-level path that rewrites SSRC, sequence number and timestamp per line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiortc import RTCPeerConnection, RTCRtpCodecCapability, RTCRtpSender, RTCRtpTransceiver

if TYPE_CHECKING:
    from roomtone.sfu.publishing import Publication

# Only what can be forwarded as is, in both directions.
FORWARDED_CODECS = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}


def codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """Opus, VP8 (+ RTX for retransmissions): what every m-line of the SFU negotiates."""
    wanted = FORWARDED_CODECS[kind]
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]


class Feed(Protocol):
    """One publication's media inside the server, which subscriber lines attach to."""

    def close(self) -> None:
        """The publication is unpublished: stop feeding every line attached to it."""


class OutgoingLine(Protocol):
    """A server→subscriber m-line (a sendonly transceiver) and what feeds its sender."""

    kind: str
    transceiver: RTCRtpTransceiver

    def attach(self, publication: Publication) -> None:
        """Start sending `publication` (published, with this strategy's feed) on this line."""

    def detach(self) -> None:
        """Stop sending; the line stays for a later publication of its kind."""


class Downlink(Protocol):
    """The sending side of one subscriber's RTCPeerConnection."""

    def add_line(self, kind: str) -> OutgoingLine:
        """Add a sendonly m-line of `kind` to the connection."""

    def close(self) -> None:
        """The connection is being dropped (leave or reset); its lines are detached."""


class MediaStrategy(Protocol):
    """How published media reaches subscribers (one instance per room)."""

    def receive(self, publication: Publication) -> Feed:
        """Take over `publication.transceiver`'s receiver and return the publication's feed.

        Called synchronously right after the recvonly transceiver is added,
        before the offer that carries it is applied (so before aiortc starts
        the receiver).
        """

    def downlink(self, pc: RTCPeerConnection) -> Downlink:
        """The sending side of a new subscriber connection."""
