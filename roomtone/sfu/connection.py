"""One participant's RTCPeerConnection to the server: the negotiation.

Everything that touches the connection runs in one worker task, in arrival
order: the client's parsed signals (signals.py) and "the publications this
client should receive changed" notices. So only one negotiation is ever in
flight, and changes that arrive meanwhile are folded into the next server
offer. Which m-lines carry what is decided by publishing.py (client m-lines)
and subscribing.py (server m-lines); what flows through them by the room's
media strategy (media.py).

Negotiation roles (docs/PROTOCOL.md, SFU section):
- the client offers its own tracks; the server answers (m-lines it receives);
- the server offers whenever the client's subscriptions change, never
  before the client's first offer is answered (so the first exchange cannot
  collide), each offer carrying `tracks` (mid → peerId, kind);
- glare: the server is the impolite peer. aiortc cannot roll back a local
  offer, so a client offer that arrives while a server offer is outstanding is
  dropped; the client (polite, as in "perfect negotiation") rolls its offer
  back when it receives ours, answers, and offers again afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiortc import RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import OperationError

from roomtone.errors import BAD_SIGNAL, NEGOTIATION_FAILED, NO_CODEC, PORTS_FULL, error
from roomtone.room import Participant
from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu import sdp as sdptext
from roomtone.sfu.media import MediaConnection, MediaStrategy
from roomtone.sfu.peerstate import PeerState, SessionSettings
from roomtone.sfu.publishing import Hub, Publishing
from roomtone.sfu.signals import SFU_PEER, Answer, Candidate, Offer, Signal
from roomtone.sfu.subscribing import Subscribing

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0


class _Resubscribe:
    """Inbox item: the publications this client should receive changed."""


RESUBSCRIBE = _Resubscribe()


class PeerSession:
    """The server end of one participant's connection."""

    def __init__(
        self, participant: Participant, hub: Hub, settings: SessionSettings, media: MediaStrategy
    ) -> None:
        self.participant = participant
        self.hub = hub
        self.settings = settings
        self.media = media
        self._state = self._new_state()
        self._inbox: asyncio.Queue[Signal | _Resubscribe] = asyncio.Queue()
        self._resubscribe_wanted = False
        self._resubscribe_queued = False
        self._closed = False
        self._retired: set[asyncio.Task[None]] = set()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _new_state(self) -> PeerState:
        pc = RTCPeerConnection(self.settings.configuration())
        media = self.media.connect(pc, self.participant.send)
        return PeerState(
            pc,
            media,
            Publishing(self.participant.id, self.hub, media),
            Subscribing(media),
        )

    @property
    def connection(self) -> MediaConnection:
        """The media side of the current connection (tests and benches look into it)."""
        return self._state.media

    # --- called by the transport -----------------------------------------------------------

    def signal(self, signal: Signal) -> None:
        """A client signal to `sfu`, applied in order by the worker."""
        if not self._closed:
            self._inbox.put_nowait(signal)

    def resubscribe(self) -> None:
        """The publications this client should receive changed; renegotiate when possible."""
        if self._closed:
            return
        self._resubscribe_wanted = True
        if not self._resubscribe_queued:
            self._resubscribe_queued = True
            self._inbox.put_nowait(RESUBSCRIBE)

    def leave(self) -> None:
        """Synchronous part of leaving: unpublish at once so others renegotiate now."""
        self._closed = True
        self._drop_media(self._state)

    async def close(self) -> None:
        """Stop the worker and close the connection (sockets, tasks, transports)."""
        if not self._closed:
            self.leave()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._close_pc(self._state.pc)
        if self._retired:
            await asyncio.gather(*self._retired, return_exceptions=True)

    # --- worker ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            item = await self._inbox.get()
            try:
                match item:
                    case Offer(sdp, sources):
                        await self._on_offer(sdp, sources)
                    case Answer(sdp):
                        await self._on_answer(sdp)
                    case Candidate(candidate):
                        await self._on_candidate(candidate)
                    case _Resubscribe():
                        self._resubscribe_queued = False
                if self._resubscribe_wanted and self._can_offer():
                    self._resubscribe_wanted = False
                    await self._offer_subscriptions()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SFU negotiation with %s failed", self.participant.id)
                self._reset(NEGOTIATION_FAILED)

    def _can_offer(self) -> bool:
        state = self._state
        return state.answered and not state.offer_pending and state.pc.signalingState == "stable"

    async def _on_offer(self, sdp: str, sources: Mapping[str, str]) -> None:
        state = self._state
        if state.offer_pending or state.pc.signalingState != "stable":
            log.debug("glare with %s: dropping its offer (server offer wins)", self.participant.id)
            return
        state.publishing.prepare(state.pc, sdp, sources)
        try:
            await state.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:  # aiortc raises OperationError, ValueError, …
            log.info("unusable offer from %s: %s", self.participant.id, exc)
            self._reset(NO_CODEC if isinstance(exc, OperationError) else BAD_SIGNAL)
            return
        state.numbering.learn(sdp)
        if not await self._set_local(state, await state.pc.createAnswer()):
            return
        answer = self._send_description(state, offer=sdp)
        state.media.negotiated(answer, sdp)
        state.answered = True
        state.publishing.update()
        self._resubscribe_wanted = True

    async def _on_answer(self, sdp: str) -> None:
        state = self._state
        if not state.offer_pending:
            log.debug("unexpected answer from %s ignored", self.participant.id)
            return
        await state.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        state.offer_pending = False
        state.media.negotiated(state.sent_offer, sdp)
        if state.subscribing.answered():
            self._resubscribe_wanted = True  # one was unpublished meanwhile: offer again

    async def _on_candidate(self, candidate: RTCIceCandidate | None) -> None:
        if candidate is None and self._state.pc.remoteDescription is None:
            return
        await self._state.pc.addIceCandidate(candidate)

    async def _offer_subscriptions(self) -> None:
        """Bring this client's slots in line with the room's publications; offer if changed."""
        state = self._state
        if not state.subscribing.update(self.hub.publications_for(self.participant.id)):
            return
        offer = await adapter.create_offer(state.pc)
        aligned = RTCSessionDescription(sdp=state.numbering.align(offer.sdp), type="offer")
        if not await self._set_local(state, aligned):
            return
        state.offer_pending = True
        state.sent_offer = self._send_description(state, tracks=state.subscribing.tracks())

    async def _set_local(self, state: PeerState, description: RTCSessionDescription) -> bool:
        """setLocalDescription, binding ICE host candidates inside SFU_PORT_RANGE."""
        with adapter.ports_from(self.settings.ports) as scope:
            await state.pc.setLocalDescription(description)
        adapter.pin_dtls_roles(state.pc)  # later answers (Firefox's) must not flip it
        if scope is not None and scope.exhausted:
            local = state.pc.localDescription.sdp
            if not any(kind == "host" for _, _, kind in sdptext.candidate_addresses(local)):
                log.warning("SFU_PORT_RANGE exhausted; %s gets no media", self.participant.id)
                self._reset(PORTS_FULL)
                return False
        return True

    def _send_description(
        self,
        state: PeerState,
        tracks: list[dict[str, str | None]] | None = None,
        offer: str | None = None,
    ) -> str:
        """Send the local description (answering `offer`, if given); returns its SDP as sent."""
        local = state.pc.localDescription
        sdp = state.media.describe(local.sdp, offer)
        data: dict[str, Any] = {
            "description": {
                "type": local.type,
                "sdp": sdptext.announce(sdp, self.settings.announced_ip),
            }
        }
        if tracks is not None:
            data["tracks"] = tracks
        self.participant.send({"type": "signal", "from": SFU_PEER, "data": data})
        return sdp

    # --- teardown --------------------------------------------------------------------------

    @staticmethod
    def _drop_media(state: PeerState) -> None:
        state.publishing.drop()
        state.subscribing.clear()  # closes the connection's media side

    def _reset(self, message: str) -> None:
        """Tell the client, drop this connection, and start over with a fresh one."""
        self.participant.send(error(message))
        old = self._state
        self._drop_media(old)
        self._state = self._new_state()
        task = asyncio.get_running_loop().create_task(self._close_pc(old.pc))
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    @staticmethod
    async def _close_pc(pc: RTCPeerConnection) -> None:
        try:
            await asyncio.wait_for(pc.close(), CLOSE_TIMEOUT)
        except Exception:
            log.warning("closing an SFU peer connection failed", exc_info=True)
