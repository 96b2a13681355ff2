"""`MEDIA_TRANSPORT=sfu`: the server is the peer `sfu` of every participant.

This module is the room-wide part: which participant has a PeerSession, which
tracks are published, and who must renegotiate when that changes. Media never
passes through here (see forwarder.py), and nothing is ever decoded or encoded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiortc import RTCIceGatherer, RTCIceServer

from roomtone.config import ServerConfig
from roomtone.errors import PEER_GONE, error
from roomtone.room import Participant, Room
from roomtone.sfu import aiortc_adapter
from roomtone.sfu.connection import SFU_PEER, PeerSession
from roomtone.sfu.forwarder import Forwarder
from roomtone.sfu.peerstate import SessionSettings
from roomtone.sfu.ports import PortRange
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
    name = "sfu"
    messages = frozenset({"signal"})
    session_class: type[PeerSession] = PeerSession  # bench/ swaps in a transcoding reference

    def __init__(self, room: Room, config: ServerConfig) -> None:
        super().__init__(room)
        aiortc_adapter.forbid_codecs_if_requested()
        # aioice logs each ICE check at INFO (a dozen lines per join); keep them for debug.
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            logging.getLogger("aioice").setLevel(logging.WARNING)
        low_high = config.sfu.port_range
        self.settings = SessionSettings(
            ice_servers=ice_servers(config),
            ports=PortRange(*low_high) if low_high else None,
            announced_ip=config.sfu.announced_ip,
        )
        self.sessions: dict[str, PeerSession] = {}
        self._published: dict[Forwarder, None] = {}  # ordered set: publication order
        self._closing: set[asyncio.Task[None]] = set()

    # --- Transport -----------------------------------------------------------------------------

    def on_join(self, participant: Participant) -> None:
        self.sessions[participant.id] = self.session_class(participant, self, self.settings)

    async def on_message(self, participant: Participant, message: dict[str, Any]) -> None:
        session = self.sessions.get(participant.id)
        if message.get("to") != SFU_PEER or session is None:
            participant.send(error(PEER_GONE))
            return
        session.signal(message.get("data"))

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

    def publish(self, forwarder: Forwarder) -> None:
        self._published[forwarder] = None
        log.debug("published %r", forwarder)
        self._notify(forwarder.publisher_id)

    def unpublish(self, forwarder: Forwarder) -> None:
        if forwarder not in self._published:
            return
        del self._published[forwarder]
        forwarder.close()
        log.debug("unpublished %r", forwarder)
        self._notify(forwarder.publisher_id)

    def wanted_for(self, participant_id: str) -> list[Forwarder]:
        return [f for f in self._published if f.publisher_id != participant_id]

    def _notify(self, publisher_id: str) -> None:
        for session_id, session in self.sessions.items():
            if session_id != publisher_id:
                session.request_sync()
