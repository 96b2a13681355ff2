"""A synthetic WS-mode participant: publishes a recorder-like WebM in timeslices and
receives everyone else's, timing each chunk from send to delivery.

The payload must stay valid WebM, so nothing is embedded in it; and a server
may regroup a stream without changing its frames: whole-element forwarding,
late joiner history, skip-ahead for slow clients, Cluster headers and block
timecodes rewritten (our relay re-clusters), or the publisher's bytes
verbatim (the original server). So a receiver identifies what it got by the
frames in it, not by bytes or offsets: each publisher's chunks are recorded
with their send times in a table all participants share, and each frame that
arrives is matched to the chunk that carried it (wsdelivery.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp

from roomtone.loadtest.control import join
from roomtone.loadtest.frames import FrameIndex
from roomtone.loadtest.metrics import Metrics
from roomtone.loadtest.webm import MIME_TYPE, ChunkSource, Recording
from roomtone.loadtest.wsdelivery import DeliveryError, Follower, Publication

MAX_LAG_SECONDS = 1.0  # a sender further behind its schedule skips ahead instead of bursting


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
    keep_seconds: float  # of each publisher's chunk table
    publications: dict[bytes, Publication] = field(default_factory=dict)
    frames: FrameIndex = field(init=False)

    def __post_init__(self) -> None:
        self.frames = FrameIndex(self.recording)


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
        self._streams: dict[bytes, Follower] = {}  # by publisher id

    async def start(self) -> None:
        """Join and start publishing; raises JoinError."""
        self.ws, welcome = await join(self.ctx.session, self.ctx.ws_url, self.name, "ws")
        self.id = welcome["id"]
        self.joined_at = time.perf_counter()
        publication = Publication(self.ctx.keep_seconds)
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
                publication.append(len(chunk), now)
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
                self._streams.pop(peer.encode(), None)  # what comes next is a new stream

    def _delivered(self, publisher: bytes, pub: Publication, payload: memoryview) -> None:
        follower = self._streams.get(publisher)
        if follower is None:
            follower = self._streams[publisher] = Follower(pub, self.ctx.frames)
        metrics = self.ctx.metrics
        try:
            follower.receive(payload, time.perf_counter(), self.joined_at, metrics.delivered)
        except DeliveryError as exc:
            metrics.error(str(exc))

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
