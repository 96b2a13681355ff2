"""A synthetic WS-mode participant: publishes a recorder-like WebM in timeslices and
receives everyone else's, timing each chunk from send to delivery.

The relay forwards bytes verbatim but may regroup them (whole elements, late
joiner history, skip-ahead for slow clients), and the payload must stay valid
WebM, so nothing is embedded in it. Instead all participants share one table
per publisher: the bytes sent so far and, per chunk, where it ends and when it
was sent. A receiver follows each publisher's stream by byte offset and a
chunk counts as delivered when the bytes up to its end have arrived.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from array import array
from dataclasses import dataclass, field

import aiohttp

from roomtone.loadtest.control import join
from roomtone.loadtest.metrics import Metrics
from roomtone.loadtest.webm import MIME_TYPE, ChunkSource, Recording

PROBE_BYTES = 64  # start of a packet searched for when a receiver has to resynchronise
MAX_CANDIDATES = 64  # places checked before giving up
MAX_LAG_SECONDS = 1.0  # a sender further behind its schedule skips ahead instead of bursting


class Publication:
    """What one publisher has sent: recent stream bytes and (end offset, send time) per chunk."""

    def __init__(self, init: bytes, keep_bytes: int) -> None:
        self.init = init
        self.keep_bytes = keep_bytes
        self.data = bytearray()
        self.base = 0  # stream offset of data[0]; older bytes are forgotten
        self.ends = array("q")
        self.times = array("d")
        self.index_base = 0  # chunk number of ends[0]

    def append(self, chunk: bytes, sent_at: float) -> None:
        self.data += chunk
        self.ends.append(self.base + len(self.data))
        self.times.append(sent_at)
        if len(self.data) > 2 * self.keep_bytes:
            self._trim()

    def _trim(self) -> None:
        cut = len(self.data) - self.keep_bytes
        del self.data[:cut]
        self.base += cut
        drop = bisect.bisect_right(self.ends, self.base)
        del self.ends[:drop]
        del self.times[:drop]
        self.index_base += drop

    def locate(self, payload: memoryview) -> tuple[int, int] | None:
        """(start, end) stream offsets of `payload`, found by content; None if not found.

        A payload may open with the init segment (history sent to a late joiner);
        what follows it is searched from the most recent bytes backwards (late
        joiner history and skipped media are recent).
        """
        init = self.init
        if len(payload) >= len(init) and payload[: len(init)] == init:
            payload = payload[len(init) :]
            if not payload:
                return None
        probe = bytes(payload[:PROBE_BYTES])
        data = self.data
        limit = len(data)
        for _ in range(MAX_CANDIDATES):  # short probes can recur (repeated audio frames)
            start = data.rfind(probe, 0, limit)
            if start < 0:
                return None
            if data[start : start + len(payload)] == payload:
                break
            limit = start + len(probe) - 1
        else:
            return None
        return self.base + start, self.base + start + len(payload)


@dataclass
class WsContext:
    """Everything the participants of one run share."""

    session: aiohttp.ClientSession
    ws_url: str
    metrics: Metrics
    recording: Recording
    chunk_bytes: int
    timeslice: float
    cut: str
    keep_bytes: int
    publications: dict[bytes, Publication] = field(default_factory=dict)


class WsParticipant:
    """One socket: a publishing task and a receiving task."""

    def __init__(self, ctx: WsContext, name: str, phase: float) -> None:
        self.ctx = ctx
        self.name = name
        self.phase = phase  # offsets the send schedule so participants do not send in lockstep
        self.id = ""
        self.joined_at = 0.0
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._publishing = False
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        # publisher id → [next expected stream offset, next chunk number to credit]
        self._streams: dict[bytes, list[int]] = {}

    async def start(self) -> None:
        """Join and start publishing; raises JoinError."""
        self.ws, welcome = await join(self.ctx.session, self.ctx.ws_url, self.name, "ws")
        self.id = welcome["id"]
        self.joined_at = time.perf_counter()
        publication = Publication(self.ctx.recording.init, self.ctx.keep_bytes)
        self.ctx.publications[self.id.encode()] = publication
        await self.ws.send_str(json.dumps({"type": "media-start", "mimeType": MIME_TYPE}))
        self._publishing = True
        self._tasks = [
            asyncio.create_task(self._publish(publication)),
            asyncio.create_task(self._receive()),
        ]

    async def _publish(self, publication: Publication) -> None:
        assert self.ws is not None
        source = ChunkSource(self.ctx.recording, self.ctx.chunk_bytes, self.ctx.cut)
        timeslice = self.ctx.timeslice
        due = time.perf_counter() + self.phase
        try:
            while self._publishing:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                    if not self._publishing:
                        break
                chunk = source.next_chunk()
                now = time.perf_counter()
                publication.append(chunk, now)
                await self.ws.send_bytes(chunk)
                due += timeslice
                if due < now - MAX_LAG_SECONDS:
                    self.ctx.metrics.error("sender fell more than 1 s behind its schedule")
                    due = now
        except (ConnectionError, aiohttp.ClientError) as exc:
            if not self._closing:
                self.ctx.metrics.error(f"send failed: {type(exc).__name__}")

    async def _receive(self) -> None:
        assert self.ws is not None
        metrics = self.ctx.metrics
        publications = self.ctx.publications
        while True:
            msg = await self.ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                data: bytes = msg.data
                if len(data) < 3 or data[0] != 1:
                    metrics.error("malformed media packet")
                    continue
                end = 2 + data[1]
                publisher = data[2:end]
                publication = publications.get(publisher)
                metrics.delivered_bytes += len(data) - end
                if publication is not None:
                    self._delivered(publisher, publication, memoryview(data)[end:])
            elif msg.type == aiohttp.WSMsgType.TEXT:
                self._control(msg.data)
            else:
                if not self._closing:
                    metrics.error(f"socket closed by the server (code {self.ws.close_code})")
                return

    def _control(self, text: str) -> None:
        if text.startswith('{"type":"entropy"') or text.startswith('{"type": "entropy"'):
            return
        try:
            message = json.loads(text)
        except ValueError:
            self.ctx.metrics.error("invalid JSON from the server")
            return
        kind = message.get("type")
        if kind == "error":
            self.ctx.metrics.error(f"server: {message.get('message')}")
        elif kind in ("media-stop", "media-start", "peer-left"):
            peer = message.get("peerId")
            if isinstance(peer, str):
                self._streams.pop(peer.encode(), None)  # a new stream starts at offset 0

    def _delivered(self, publisher: bytes, pub: Publication, payload: memoryview) -> None:
        now = time.perf_counter()
        state = self._streams.get(publisher)
        if state is None:
            state = self._streams[publisher] = [0, 0]
        offset = state[0]
        rel = offset - pub.base
        size = len(payload)
        if rel >= 0 and pub.data[rel : rel + size] == payload:
            end = offset + size
        else:
            found = pub.locate(payload)
            if found is None:
                if not (len(payload) <= len(pub.init) and payload == pub.init[:size]):
                    self.ctx.metrics.error("received media not found in the publisher's stream")
                return
            start, end = found
            # chunks ending before this point were skipped by the relay
            state[1] = max(state[1], pub.index_base + bisect.bisect_right(pub.ends, start))
        state[0] = end
        ends, times, base = pub.ends, pub.times, pub.index_base
        i = max(state[1], base)
        count = len(ends)
        record = self.ctx.metrics.delivered
        joined = self.joined_at
        while i - base < count and ends[i - base] <= end:
            sent = times[i - base]
            if sent >= joined:  # history from before we joined is catch-up, not live delivery
                record(sent, now)
            i += 1
        state[1] = i

    def stop_publishing(self) -> None:
        self._publishing = False

    async def close(self) -> None:
        self._publishing = False
        self._closing = True
        if self.ws is not None:
            await self.ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
