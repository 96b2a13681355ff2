"""What one participant's server connection holds, and the settings it is built from.

`PeerState` is everything tied to one RTCPeerConnection: the media strategy's
side of it, its publications (publishing.py), its slots (subscribing.py), the
client's numbering and the negotiation flags. A reset replaces it as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCPeerConnection

from roomtone.sfu.media import MediaConnection
from roomtone.sfu.ports import PortRange
from roomtone.sfu.publishing import Publishing
from roomtone.sfu.sdp import Numbering
from roomtone.sfu.subscribing import Subscribing


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
class PeerState:
    """What belongs to one RTCPeerConnection (replaced wholesale on reset)."""

    pc: RTCPeerConnection
    media: MediaConnection
    publishing: Publishing
    subscribing: Subscribing
    numbering: Numbering = field(default_factory=Numbering)
    answered: bool = False  # the client's first offer has been answered
    offer_pending: bool = False  # a server offer awaits the client's answer
    sent_offer: str = ""  # that offer, as sent
