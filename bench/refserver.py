"""The transcoding reference for bench/sfu.py: what aiortc "SFUs" usually do.

Same server, signaling and renegotiation as `MEDIA_TRANSPORT=sfu` (the same
SfuTransport), with another media strategy (roomtone/sfu/media.py): each
published track is decoded by aiortc's receiver and every subscriber line
gets `MediaRelay().subscribe(track)`, which its RTCRtpSender re-encodes. Not
part of Roomtone.

Run like `roomtone serve` (same environment variables): python bench/refserver.py
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.contrib.media import MediaRelay

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from roomtone.config import ServerConfig, load_server_config
from roomtone.room import Room
from roomtone.server import serve
from roomtone.sfu import SfuTransport
from roomtone.sfu.media import codec_preferences
from roomtone.sfu.publishing import Publication


class DecodedFeed:
    """Feed: the publication's receiver, whose track aiortc decodes."""

    def __init__(self, receiver: RTCRtpReceiver) -> None:
        self.receiver = receiver

    def close(self) -> None:
        """Subscriber lines are detached by their sessions; nothing to stop here."""


class RelayLine:
    """OutgoingLine: a sendonly transceiver whose sender encodes a MediaRelay proxy track."""

    def __init__(self, pc: RTCPeerConnection, kind: str, relay: MediaRelay) -> None:
        self.kind = kind
        self.relay = relay
        self.transceiver = pc.addTransceiver(kind, direction="sendonly")
        self.transceiver.setCodecPreferences(codec_preferences(kind))

    def attach(self, publication: Publication) -> None:
        feed = publication.feed
        assert isinstance(feed, DecodedFeed)
        # Unbuffered: a subscriber that cannot keep up skips frames instead of lagging.
        track = self.relay.subscribe(feed.receiver.track, buffered=False)
        self.transceiver.sender.replaceTrack(track)

    def detach(self) -> None:
        self.transceiver.sender.replaceTrack(None)


class RelayConnection:
    """MediaConnection: decoded feeds in, re-encoding lines out; SDP as aiortc writes it."""

    def __init__(self, pc: RTCPeerConnection, relay: MediaRelay) -> None:
        self.pc = pc
        self.relay = relay

    def receive(self, publication: Publication) -> DecodedFeed:
        return DecodedFeed(publication.transceiver.receiver)

    def add_line(self, kind: str) -> RelayLine:
        return RelayLine(self.pc, kind, self.relay)

    def describe(self, sdp: str, offer: str | None) -> str:
        return sdp

    def negotiated(self, local: str, remote: str) -> None:
        pass

    def close(self) -> None:
        pass


class TranscodingStrategy:
    """MediaStrategy: decode each publication once, re-encode it per subscriber."""

    def __init__(self) -> None:
        self.relay = MediaRelay()

    def connect(
        self, pc: RTCPeerConnection, notify: Callable[[dict[str, Any]], None]
    ) -> RelayConnection:
        return RelayConnection(pc, self.relay)


def transcoding_transport(config: ServerConfig, room: Room) -> SfuTransport:
    return SfuTransport(room, config, media=TranscodingStrategy())


def main() -> None:
    config = load_server_config()
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr)
    asyncio.run(serve(config, transcoding_transport))


if __name__ == "__main__":
    main()
