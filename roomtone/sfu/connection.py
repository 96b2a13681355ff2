"""One participant's RTCPeerConnection to the server and its negotiation queue.

Everything that touches the connection runs in one worker task, in arrival
order: client offers/answers/candidates and "the set of tracks to forward
changed" notices. So only one negotiation is ever in flight, and changes that
arrive meanwhile are folded into the next server offer.

Negotiation roles (PROTOCOL.md, SFU section):
- the client offers its own tracks; the server answers (m-lines it receives);
- the server offers whenever the client's forwarded tracks change, never
  before the client's first offer is answered (so the first exchange cannot
  collide), each offer carrying `tracks` (mid → peerId, kind);
- glare: the server is the impolite peer. aiortc cannot roll back a local
  offer, so a client offer that arrives while a server offer is outstanding is
  dropped; the client (polite, as in "perfect negotiation") rolls its offer
  back when it receives ours, answers, and offers again afterwards.

Server→client m-lines are never removed (SDP cannot): a departed publisher's
m-line goes `inactive` and is reused for the next publisher of that kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.exceptions import OperationError

from roomtone.errors import BAD_SIGNAL, NEGOTIATION_FAILED, NO_CODEC, PORTS_FULL, error
from roomtone.room import Participant
from roomtone.sfu import aiortc_adapter as adapter
from roomtone.sfu import sdp as sdptext
from roomtone.sfu.forwarder import Forwarder, SlotTrack
from roomtone.sfu.keyframes import KeyframeRequester
from roomtone.sfu.packetize import packer_for
from roomtone.sfu.peerstate import (
    MAX_PUBLISHED_PER_KIND,
    Hub,
    Inbound,
    PeerState,
    SessionSettings,
    Slot,
    codec_preferences,
)

log = logging.getLogger(__name__)

SFU_PEER = "sfu"
CLOSE_TIMEOUT = 5.0


class PeerSession:
    """The server end of one participant's connection."""

    def __init__(self, participant: Participant, hub: Hub, settings: SessionSettings) -> None:
        self.participant = participant
        self.hub = hub
        self.settings = settings
        self.negotiations = 0
        self._state = PeerState(RTCPeerConnection(settings.configuration()))
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._sync_wanted = False
        self._sync_queued = False
        self._closed = False
        self._retired: set[asyncio.Task[None]] = set()
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def pc(self) -> RTCPeerConnection:
        return self._state.pc

    # --- called by the transport -----------------------------------------------------------

    def signal(self, data: object) -> None:
        """A client `signal` to `sfu`: validated here, applied in order by the worker."""
        if self._closed:
            return
        if not isinstance(data, dict):
            self.participant.send(error(BAD_SIGNAL))
            return
        description = data.get("description")
        if description is not None:
            if (
                not isinstance(description, dict)
                or description.get("type") not in ("offer", "answer")
                or not isinstance(description.get("sdp"), str)
            ):
                self.participant.send(error(BAD_SIGNAL))
                return
            self._inbox.put_nowait((description["type"], description["sdp"]))
        elif "candidate" in data:
            candidate = data["candidate"]
            if candidate is not None and not isinstance(candidate, dict):
                self.participant.send(error(BAD_SIGNAL))
                return
            self._inbox.put_nowait(("candidate", candidate))
        else:
            self.participant.send(error(BAD_SIGNAL))

    def request_sync(self) -> None:
        """The tracks this client should receive changed; renegotiate when possible."""
        if self._closed:
            return
        self._sync_wanted = True
        if not self._sync_queued:
            self._sync_queued = True
            self._inbox.put_nowait(("sync", None))

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
            kind, payload = await self._inbox.get()
            try:
                if kind == "offer":
                    await self._on_offer(payload)
                elif kind == "answer":
                    await self._on_answer(payload)
                elif kind == "candidate":
                    await self._on_candidate(payload)
                else:
                    self._sync_queued = False
                if self._sync_wanted and self._can_offer():
                    self._sync_wanted = False
                    await self._sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SFU negotiation with %s failed", self.participant.id)
                self._reset(NEGOTIATION_FAILED)

    def _can_offer(self) -> bool:
        state = self._state
        return state.answered and not state.offer_pending and state.pc.signalingState == "stable"

    async def _on_offer(self, sdp: str) -> None:
        state = self._state
        if state.offer_pending or state.pc.signalingState != "stable":
            log.debug("glare with %s: dropping its offer (server offer wins)", self.participant.id)
            return
        new = self._prepare_inbound(state, sdp)
        try:
            await state.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:  # aiortc raises OperationError, ValueError, …
            log.info("unusable offer from %s: %s", self.participant.id, exc)
            self._reset(NO_CODEC if isinstance(exc, OperationError) else BAD_SIGNAL)
            return
        for inbound in new:
            inbound.forwarder.mid = inbound.transceiver.mid
        state.numbering.learn(sdp)
        state.client_sdp = sdp
        answer = await state.pc.createAnswer()
        if not await self._set_local(state, answer):
            return
        self._send_description(state)
        state.answered = True
        self.negotiations += 1
        self._update_publications(state)
        self._sync_wanted = True

    def _prepare_inbound(self, state: PeerState, sdp: str) -> list[Inbound]:
        """Pre-create a recvonly transceiver (Opus/VP8 only) for each new client m-line.

        aiortc matches a remote m-line to an existing transceiver of that kind
        without a mid, so codec preferences can be set before it negotiates.
        """
        known = {t.mid for t in state.pc.getTransceivers() if t.mid is not None}
        counts = {"audio": 0, "video": 0}
        for inbound in state.inbound:
            counts[inbound.forwarder.kind] += 1
        new = []
        for section in sdptext.media_sections(sdp):
            if section.kind not in counts or section.mid in known:
                continue
            transceiver = state.pc.addTransceiver(section.kind, direction="recvonly")
            transceiver.setCodecPreferences(codec_preferences(section.kind))
            counts[section.kind] += 1
            if counts[section.kind] > MAX_PUBLISHED_PER_KIND:
                transceiver.direction = "inactive"
            inbound = Inbound(transceiver, self._new_forwarder(section.kind))
            self._receive(transceiver, inbound.forwarder)
            state.inbound.append(inbound)
            new.append(inbound)
        return new

    def _new_forwarder(self, kind: str) -> Forwarder:
        holder: list[Forwarder] = []
        requester = KeyframeRequester(lambda: self._send_pli(holder[0]))
        forwarder = Forwarder(self.participant.id, kind, requester)
        holder.append(forwarder)
        return forwarder

    def _send_pli(self, forwarder: Forwarder) -> None:
        state = self._state
        for inbound in state.inbound:
            if inbound.forwarder is forwarder:
                if inbound.ssrc is None and forwarder.mid is not None:
                    inbound.ssrc = sdptext.media_ssrc(state.client_sdp, forwarder.mid)
                if inbound.ssrc is None:
                    sources = inbound.transceiver.receiver.getSynchronizationSources()
                    if not sources:
                        return
                    inbound.ssrc = sources[0].source
                adapter.send_pli(inbound.transceiver.receiver, inbound.ssrc)
                return

    def _update_publications(self, state: PeerState) -> None:
        for inbound in state.inbound:
            receiving = inbound.transceiver.currentDirection in ("recvonly", "sendrecv")
            if receiving and not inbound.published:
                inbound.published = True
                inbound.forwarder.reopen()
                self.hub.publish(inbound.forwarder)
            elif not receiving and inbound.published:
                inbound.published = False
                self.hub.unpublish(inbound.forwarder)

    async def _on_answer(self, sdp: str) -> None:
        state = self._state
        if not state.offer_pending:
            log.debug("unexpected answer from %s ignored", self.participant.id)
            return
        await state.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        state.offer_pending = False
        self.negotiations += 1
        for slot in state.slots:
            source, slot.pending = slot.pending, None
            if source is None:
                continue
            if source.closed:
                self._sync_wanted = True  # it left meanwhile: deactivate in the next offer
            else:
                slot.active = source
                self._activate(slot, source)

    async def _on_candidate(self, data: dict[str, Any] | None) -> None:
        try:
            candidate = adapter.parse_candidate(data) if data is not None else None
        except ValueError:
            self.participant.send(error(BAD_SIGNAL))
            return
        if candidate is None and self._state.pc.remoteDescription is None:
            return
        await self._state.pc.addIceCandidate(candidate)

    async def _sync(self) -> None:
        """Bring this client's forwarded m-lines in line with the room; offer if changed."""
        state = self._state
        wanted = [f for f in self.hub.wanted_for(self.participant.id) if not f.closed]
        wanted_set = set(wanted)
        changed = False
        for slot in state.slots:
            if slot.transceiver.direction == "sendonly" and slot.active not in wanted_set:
                self._deactivate(slot)
                slot.active = None
                slot.transceiver.direction = "inactive"
                changed = True
        have = {slot.active for slot in state.slots if slot.active is not None}
        for forwarder in wanted:
            if forwarder in have:
                continue
            slot = self._free_slot(state, forwarder.kind)
            slot.pending = forwarder
            slot.transceiver.direction = "sendonly"
            changed = True
        if not changed:
            return
        offer = await adapter.create_offer(state.pc)
        aligned = RTCSessionDescription(sdp=state.numbering.align(offer.sdp), type="offer")
        if not await self._set_local(state, aligned):
            return
        state.offer_pending = True
        tracks = [
            {"mid": slot.transceiver.mid, "peerId": source.publisher_id, "kind": source.kind}
            for slot in state.slots
            if (source := slot.source) is not None
        ]
        self._send_description(state, tracks=tracks)

    def _free_slot(self, state: PeerState, kind: str) -> Slot:
        for slot in state.slots:
            if (
                slot.kind == kind
                and slot.source is None
                and slot.transceiver.direction == "inactive"
            ):
                return slot
        slot = self._new_slot(state.pc, kind)
        state.slots.append(slot)
        return slot

    # --- media plumbing (overridden by bench/'s MediaRelay reference) --------------------------

    def _receive(self, transceiver: RTCRtpTransceiver, forwarder: Forwarder) -> None:
        """Route a client m-line's encoded frames into its Forwarder (no decoder)."""
        adapter.tap_receiver(transceiver.receiver, forwarder, forwarding=True)

    def _new_slot(self, pc: RTCPeerConnection, kind: str) -> Slot:
        """A server→client m-line whose sender packs forwarded frames (no encoder)."""
        track = SlotTrack(kind)
        transceiver = pc.addTransceiver(track, direction="sendonly")
        transceiver.setCodecPreferences(codec_preferences(kind))
        adapter.install_forwarding_sender(transceiver.sender, packer_for(kind), track)
        adapter.on_keyframe_request(transceiver.sender, track.request_keyframe)
        return Slot(transceiver, kind, track)

    def _activate(self, slot: Slot, source: Forwarder) -> None:
        assert slot.track is not None
        slot.track.attach(source)

    def _deactivate(self, slot: Slot) -> None:
        if slot.track is not None:
            slot.track.detach()

    async def _set_local(self, state: PeerState, description: RTCSessionDescription) -> bool:
        """setLocalDescription, binding ICE host candidates inside SFU_PORT_RANGE."""
        with adapter.ports_from(self.settings.ports) as scope:
            await state.pc.setLocalDescription(description)
        if scope is not None and scope.exhausted:
            local = state.pc.localDescription.sdp
            if not any(kind == "host" for _, _, kind in sdptext.candidate_addresses(local)):
                log.warning("SFU_PORT_RANGE exhausted; %s gets no media", self.participant.id)
                self._reset(PORTS_FULL)
                return False
        return True

    def _send_description(
        self, state: PeerState, tracks: list[dict[str, str]] | None = None
    ) -> None:
        local = state.pc.localDescription
        data: dict[str, Any] = {
            "description": {
                "type": local.type,
                "sdp": sdptext.announce(local.sdp, self.settings.announced_ip),
            }
        }
        if tracks is not None:
            data["tracks"] = tracks
        self.participant.send({"type": "signal", "from": SFU_PEER, "data": data})

    # --- teardown --------------------------------------------------------------------------

    def _drop_media(self, state: PeerState) -> None:
        for inbound in state.inbound:
            if inbound.published:
                inbound.published = False
                self.hub.unpublish(inbound.forwarder)
            inbound.forwarder.close()
        for slot in state.slots:
            self._deactivate(slot)
            slot.pending = slot.active = None

    def _reset(self, message: str) -> None:
        """Tell the client, drop this connection, and start over with a fresh one."""
        self.participant.send(error(message))
        old = self._state
        self._drop_media(old)
        self._state = PeerState(RTCPeerConnection(self.settings.configuration()))
        task = asyncio.get_running_loop().create_task(self._close_pc(old.pc))
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    @staticmethod
    async def _close_pc(pc: RTCPeerConnection) -> None:
        try:
            await asyncio.wait_for(pc.close(), CLOSE_TIMEOUT)
        except Exception:
            log.warning("closing an SFU peer connection failed", exc_info=True)
