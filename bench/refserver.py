"""The transcoding reference for bench/sfu.py: what aiortc "SFUs" usually do.

Same server, same signaling and renegotiation as `MEDIA_TRANSPORT=sfu`, but
each published track is decoded by aiortc's receiver and every subscriber
gets `MediaRelay().subscribe(track)`, which its RTCRtpSender re-encodes. Only
the media plumbing hooks of PeerSession are replaced. Not part of Roomtone.

Run like `roomtone serve` (same environment variables): python bench/refserver.py
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.contrib.media import MediaRelay

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import roomtone.app
from roomtone.config import ServerConfig, load_server_config
from roomtone.room import Room
from roomtone.sfu import SfuTransport
from roomtone.sfu.connection import PeerSession
from roomtone.sfu.forwarder import Forwarder
from roomtone.sfu.peerstate import Slot, codec_preferences

RELAY = MediaRelay()


class TranscodingSession(PeerSession):
    def _receive(self, transceiver: RTCRtpTransceiver, forwarder: Forwarder) -> None:
        forwarder.receiver = transceiver.receiver  # type: ignore[attr-defined]

    def _new_slot(self, pc: RTCPeerConnection, kind: str) -> Slot:
        transceiver = pc.addTransceiver(kind, direction="sendonly")
        transceiver.setCodecPreferences(codec_preferences(kind))
        return Slot(transceiver, kind, None)

    def _activate(self, slot: Slot, source: Forwarder) -> None:
        track = source.receiver.track  # type: ignore[attr-defined]
        # Unbuffered: a subscriber that cannot keep up skips frames instead of lagging.
        slot.transceiver.sender.replaceTrack(RELAY.subscribe(track, buffered=False))

    def _deactivate(self, slot: Slot) -> None:
        slot.transceiver.sender.replaceTrack(None)


class TranscodingTransport(SfuTransport):
    session_class = TranscodingSession


def main() -> None:
    config = load_server_config()
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr)

    def make_transport(config: ServerConfig, room: Room) -> TranscodingTransport:
        return TranscodingTransport(room, config)

    roomtone.app.make_transport = make_transport  # type: ignore[assignment]
    from roomtone.server import serve

    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
