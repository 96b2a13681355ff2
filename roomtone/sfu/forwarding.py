"""The default media strategy: forward encoded frames, never decode or encode.

A publication's receiver hands reassembled frames to its Forwarder (no
decoder thread, a jitter buffer that releases frames once complete, SRTP
handled in the socket callback); each subscriber line is a sendonly
transceiver whose sender packs those frames synchronously (no encoder, no
task per sender) and whose PLIs become keyframe requests to the publisher.
See forwarder.py for the fan-out and aiortc_adapter for the aiortc side.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection

from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu.forwarder import Forwarder, SlotTrack
from roomtone.sfu.media import codec_preferences
from roomtone.sfu.packetize import packer_for
from roomtone.sfu.publishing import Publication


class ForwardingStrategy:
    """MediaStrategy: encoded frames from each publisher straight to its subscribers."""

    def receive(self, publication: Publication) -> Forwarder:
        forwarder = Forwarder(publication.kind, publication.request_keyframe)
        adapter.tap_receiver(publication.transceiver.receiver, forwarder, forwarding=True)
        return forwarder

    def downlink(self, pc: RTCPeerConnection) -> ForwardingDownlink:
        return ForwardingDownlink(pc)


class ForwardingDownlink:
    """Downlink: one subscriber connection's forwarding lines."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.pc = pc

    def add_line(self, kind: str) -> ForwardingLine:
        return ForwardingLine(self.pc, kind)

    def close(self) -> None:
        """Nothing connection-wide to stop: each line's sender ends with the connection."""


class ForwardingLine:
    """OutgoingLine: a sendonly transceiver whose sender packs its SlotTrack's frames."""

    def __init__(self, pc: RTCPeerConnection, kind: str) -> None:
        self.kind = kind
        self.track = SlotTrack(kind)
        self.transceiver = pc.addTransceiver(self.track, direction="sendonly")
        self.transceiver.setCodecPreferences(codec_preferences(kind))
        sender = self.transceiver.sender
        adapter.install_forwarding_sender(sender, packer_for(kind), self.track)
        adapter.on_keyframe_request(sender, self.track.request_keyframe)

    def attach(self, publication: Publication) -> None:
        feed = publication.feed
        if not isinstance(feed, Forwarder):
            raise TypeError(f"{publication!r} was not received by the forwarding strategy")
        self.track.attach(feed)

    def detach(self) -> None:
        self.track.detach()
