"""A small client of the Janus HTTP API (sessions, plugin handles, long-poll events).

Only what the benchmark's VideoRoom participants need: create a session,
attach handles to a plugin, send plugin messages (with or without JSEP) and
wait for the asynchronous event that answers each, keep the session alive,
and route every other event (`webrtcup`, `media`, `hangup`, …) to its handle.

Janus answers a plugin request over HTTP with an `ack` and delivers the
result later as an event carrying the same transaction; synchronous
requests (room management) answer with `success` at once. One long-poll
GET per session delivers all events of its handles.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import aiohttp

KEEPALIVE_SECONDS = 25  # Janus drops sessions silent for session_timeout (60 s)
_transactions = itertools.count(1)


class JanusError(Exception):
    """Janus or the plugin refused a request."""


def _check(reply: dict[str, Any]) -> dict[str, Any]:
    if reply.get("janus") == "error":
        error = reply.get("error", {})
        raise JanusError(f"janus error {error.get('code')}: {error.get('reason')}")
    data = reply.get("plugindata", {}).get("data", {})
    if "error" in data:
        raise JanusError(f"plugin error {data.get('error_code')}: {data['error']}")
    return reply


class JanusHandle:
    """One plugin handle: requests, their answers, and its other events in a queue."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.webrtcup = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def message(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Send a plugin message; return its result (the event, or the synchronous reply)."""
        transaction = str(next(_transactions))
        request: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            request["jsep"] = jsep
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        try:
            reply = _check(await self.session.post(f"/{self.id}", request))
            if reply.get("janus") == "success":
                return reply
            return _check(await asyncio.wait_for(future, timeout))
        finally:
            self._waiting.pop(transaction, None)

    def deliver(self, event: dict[str, Any]) -> None:
        future = self._waiting.get(str(event.get("transaction")))
        if future is not None and not future.done() and event.get("janus") == "event":
            future.set_result(event)
            return
        if event.get("janus") == "webrtcup":
            self.webrtcup.set()
        self.events.put_nowait(event)

    async def detach(self) -> None:
        with contextlib.suppress(Exception):
            await self.session.post(f"/{self.id}", {"janus": "detach"})


class JanusSession:
    """A session on one Janus: attach handles; events are polled and routed until close()."""

    def __init__(self, http: aiohttp.ClientSession, url: str, session_id: int) -> None:
        self.http = http
        self.url = f"{url}/{session_id}"
        self.id = session_id
        self.handles: dict[int, JanusHandle] = {}
        self._tasks = [
            asyncio.get_running_loop().create_task(self._poll()),
            asyncio.get_running_loop().create_task(self._keepalive()),
        ]

    @classmethod
    async def create(cls, http: aiohttp.ClientSession, url: str) -> JanusSession:
        async with http.post(url, json={"janus": "create", "transaction": "c"}) as reply:
            data = _check(await reply.json(content_type=None))
        return cls(http, url, int(data["data"]["id"]))

    async def post(self, path: str, request: dict[str, Any]) -> dict[str, Any]:
        request.setdefault("transaction", str(next(_transactions)))
        async with self.http.post(self.url + path, json=request) as reply:
            return dict(await reply.json(content_type=None))

    async def attach(self, plugin: str) -> JanusHandle:
        reply = _check(await self.post("", {"janus": "attach", "plugin": plugin}))
        handle = JanusHandle(self, int(reply["data"]["id"]))
        self.handles[handle.id] = handle
        return handle

    async def _poll(self) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        while True:
            try:
                async with self.http.get(f"{self.url}?maxev=10", timeout=timeout) as reply:
                    events = await reply.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                handle = self.handles.get(int(event.get("sender") or 0))
                if handle is not None:
                    handle.deliver(event)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self.post("", {"janus": "keepalive"})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.post("", {"janus": "destroy"})
