"""The media strategy: what flows through the m-lines that PeerSession negotiates.

PeerSession decides which m-lines exist and which publication each
subscriber m-line carries; a MediaStrategy decides how media gets from a
publisher's m-line to those subscriber m-lines. SfuTransport takes one
strategy for the whole room. The default, PacketStrategy (packets.py),
forwards RTP packets (simulcast layers chosen per subscriber) without
decoding; bench/refserver.py supplies a transcoding one as a benchmark
reference.

The roles:

- `MediaStrategy.connect(pc, notify)`: the media side of one participant's
  connection (`MediaConnection`), created with it; `notify` sends that
  participant a protocol message.
- `MediaConnection.receive(publication)`: take over the receiver of a
  publisher's m-line (before it is negotiated) and return its `Feed`, the
  publication's fan-out that subscriber lines attach to.
- `MediaConnection.add_line(kind)`: a new sendonly m-line (`OutgoingLine`);
  lines are reused for later publications of the same kind, never removed.
- `OutgoingLine.attach(publication)` / `detach()`: start and stop sending a
  publication on that line (a subscription, in media terms).
- `MediaConnection.describe(sdp, offer)`: the server's description as it is
  sent (a strategy may add what aiortc does not negotiate, e.g. simulcast);
  `negotiated(local, remote)`: an offer/answer exchange completed.

Anything that concerns all of a subscriber's lines together (the bandwidth
estimate, which layer each line gets, audio first) lives in the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

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
    """A server→subscriber m-line (a sendonly transceiver) and what feeds it."""

    kind: str
    transceiver: RTCRtpTransceiver

    def attach(self, publication: Publication) -> None:
        """Start sending `publication` (published, with this strategy's feed) on this line."""

    def detach(self) -> None:
        """Stop sending; the line stays for a later publication of its kind."""


class MediaConnection(Protocol):
    """The media side of one participant's RTCPeerConnection."""

    def receive(self, publication: Publication) -> Feed:
        """Take over `publication.transceiver`'s receiver and return the publication's feed.

        Called synchronously right after the recvonly transceiver is added,
        before the offer that carries it is applied (so before aiortc starts
        the receiver).
        """

    def add_line(self, kind: str) -> OutgoingLine:
        """Add a sendonly m-line of `kind` to the connection."""

    def describe(self, sdp: str, offer: str | None) -> str:
        """The server's description `sdp` as it is sent (`offer`: the client offer it answers)."""

    def negotiated(self, local: str, remote: str) -> None:
        """An offer/answer exchange completed (`local` as sent, `remote` as received)."""

    def close(self) -> None:
        """The connection is being dropped (leave or reset); its lines are detached."""


class MediaStrategy(Protocol):
    """How published media reaches subscribers (one instance per room)."""

    def connect(
        self, pc: RTCPeerConnection, notify: Callable[[dict[str, Any]], None]
    ) -> MediaConnection:
        """The media side of a new participant connection."""
