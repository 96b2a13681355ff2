"""`MEDIA_TRANSPORT=sfu`: the server is the peer `sfu` of every participant.

This module is the room-wide part: which participant has a PeerSession, which
publications exist (the Hub), and who must renegotiate when that changes.
Media never passes through here: the media strategy (media.py; by default
packets.py, which never decodes or encodes) carries it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiortc import RTCIceGatherer, RTCIceServer

from roomtone.config import ServerConfig
from roomtone.errors import BAD_SIGNAL, PEER_GONE, error
from roomtone.room import Participant, Room
from roomtone.sfu.connection import PeerSession
from roomtone.sfu.media import MediaStrategy
from roomtone.sfu.packets import PacketStrategy
from roomtone.sfu.peerstate import SessionSettings
from roomtone.sfu.ports import PortRange
from roomtone.sfu.publishing import Publication
from roomtone.sfu.signals import SFU_PEER, BadSignal, parse_signal
from roomtone.transport import Transport

log = logging.getLogger(__name__)


def ice_servers(config: ServerConfig) -> tuple[RTCIceServer, ...]:
    """ICE_SERVERS as aiortc servers; ones aiortc cannot use are skipped with a warning."""
    servers = []
    for item in config.ice_servers:
        server = RTCIceServer(
            urls=item["urls"],
            username=item.get("username"),
            credential=item.get("credential"),
        )
        try:
            RTCIceGatherer(iceServers=[server])  # parses the URLs; binds nothing
        except Exception as exc:
            log.warning("ICE server %s not usable by the SFU: %s", item.get("urls"), exc)
            continue
        servers.append(server)
    return tuple(servers)


class SfuTransport(Transport):
    """The sfu transport and the room's Hub of publications.

    `media` is how published media reaches subscribers; the default forwards
    RTP packets (bench/refserver.py passes a transcoding reference).
    """

    name = "sfu"
    messages = frozenset({"signal"})

    def __init__(
        self, room: Room, config: ServerConfig, media: MediaStrategy | None = None
    ) -> None:
        super().__init__(room)
        # aioice logs each ICE check at INFO (a dozen lines per join); keep them for debug.
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            logging.getLogger("aioice").setLevel(logging.WARNING)
        low_high = config.sfu.port_range
        self.settings = SessionSettings(
            ice_servers=ice_servers(config),
            ports=PortRange(*low_high) if low_high else None,
            announced_ip=config.sfu.announced_ip,
        )
        self.media: MediaStrategy = media if media is not None else PacketStrategy()
        self.sessions: dict[str, PeerSession] = {}
        self._publications: dict[Publication, None] = {}  # ordered set: publication order
        self._closing: set[asyncio.Task[None]] = set()

    # --- Transport -----------------------------------------------------------------------------

    def on_join(self, participant: Participant) -> None:
        self.sessions[participant.id] = PeerSession(participant, self, self.settings, self.media)

    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        session = self.sessions.get(participant.id)
        if message.get("to") != SFU_PEER or session is None:
            participant.send(error(PEER_GONE))
            return
        try:
            signal = parse_signal(message.get("data"))
        except BadSignal as exc:
            log.debug("bad signal from %s: %s", participant.id, exc)
            participant.send(error(BAD_SIGNAL))
            return
        session.signal(signal)

    def on_leave(self, participant: Participant) -> None:
        session = self.sessions.pop(participant.id, None)
        if session is None:
            return
        session.leave()
        task = asyncio.get_running_loop().create_task(session.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        sessions = list(self.sessions.values())
        self.sessions.clear()
        for session in sessions:
            session.leave()
        await asyncio.gather(
            *(session.close() for session in sessions), *self._closing, return_exceptions=True
        )

    # --- Hub (called by sessions) ----------------------------------------------------------

    def publish(self, publication: Publication) -> None:
        self._publications[publication] = None
        log.debug("published %r", publication)
        self._changed(publication.publisher_id)

    def unpublish(self, publication: Publication) -> None:
        if publication not in self._publications:
            return
        del self._publications[publication]
        log.debug("unpublished %r", publication)
        self._changed(publication.publisher_id)

    def publications_for(self, subscriber_id: str) -> list[Publication]:
        return [p for p in self._publications if p.publisher_id != subscriber_id]

    def _changed(self, publisher_id: str) -> None:
        """Everyone but the publisher renegotiates their subscriptions."""
        for session_id, session in self.sessions.items():
            if session_id != publisher_id:
                session.resubscribe()
