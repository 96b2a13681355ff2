"""What one participant's server connection holds, and the settings it is built from.

Split from connection.py (the negotiation logic) so each stays readable:
`Inbound` is a client m-line the server receives (a publication), `Slot` a
server m-line that carries someone else's track to the client, `PeerState`
everything tied to one RTCPeerConnection (replaced as a whole on reset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
    RTCRtpTransceiver,
)

from roomtone.sfu.forwarder import Forwarder, SlotTrack
from roomtone.sfu.ports import PortRange
from roomtone.sfu.sdp import Numbering

# Per participant and kind; further m-lines of a client offer are answered inactive.
MAX_PUBLISHED_PER_KIND = 2
FORWARDED_CODECS = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}


def codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """Only what can be forwarded as is: Opus, VP8 (+ RTX for retransmissions)."""
    wanted = FORWARDED_CODECS[kind]
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]


class Hub(Protocol):
    """The room-wide registry of published tracks (SfuTransport)."""

    def publish(self, forwarder: Forwarder) -> None: ...

    def unpublish(self, forwarder: Forwarder) -> None: ...

    def wanted_for(self, participant_id: str) -> list[Forwarder]: ...


@dataclass(frozen=True)
class SessionSettings:
    ice_servers: tuple[RTCIceServer, ...] = ()
    ports: PortRange | None = None
    announced_ip: str | None = None

    def configuration(self) -> RTCConfiguration:
        # An explicit (possibly empty) list: aiortc's default is a public STUN server.
        return RTCConfiguration(
            iceServers=list(self.ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
        )


@dataclass(eq=False)
class Inbound:
    """A client m-line the server receives: the publisher side of a Forwarder."""

    transceiver: RTCRtpTransceiver
    forwarder: Forwarder
    ssrc: int | None = None
    published: bool = False


@dataclass(eq=False)
class Slot:
    """A server→client m-line and the SlotTrack its sender reads."""

    transceiver: RTCRtpTransceiver
    kind: str
    track: SlotTrack | None  # None only in bench/'s transcoding reference
    pending: Forwarder | None = None  # offered, answer not yet applied
    active: Forwarder | None = None  # answered and forwarding

    @property
    def source(self) -> Forwarder | None:
        return self.pending or self.active


@dataclass(eq=False)
class PeerState:
    """What belongs to one RTCPeerConnection (replaced wholesale on reset)."""

    pc: RTCPeerConnection
    numbering: Numbering = field(default_factory=Numbering)
    inbound: list[Inbound] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    client_sdp: str = ""
    answered: bool = False  # the client's first offer has been answered
    offer_pending: bool = False  # a server offer awaits the client's answer
