"""A fake Telegram Bot API over HTTP on loopback, for running the real bot process.

It implements just what the bot calls (getMe, getUpdates with long polling and
offsets, sendMessage, deleteMessage, setMyCommands), records every call, lets a
test enqueue incoming messages, and can play an outage (every method answers
502 like a proxy in front of a dead upstream). It runs in its own thread and
event loop so tests stay plain synchronous code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-for-the-fake-api"
BOT_ID = 123456
BOT_USERNAME = "roomtone_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    result: Any = None
    at: float = 0.0


def _decode(value: str) -> Any:
    # PTB sends form fields with JSON-encoded values for non-strings.
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failing_status: int | None = None
        self.failing_methods: frozenset[str] | None = None  # None: every method
        self.closing = False
        self.polls = 0  # getUpdates requests received, counted on arrival (they long-poll)
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._loop = asyncio.new_event_loop()
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        async def _stop() -> None:
            self.closing = True
            await self._notify()
            assert self._runner is not None
            await self._runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ---------------------------------------------------------------------

    def message(
        self,
        text: str,
        user_id: int,
        chat_id: int | None = None,
        username: str | None = None,
    ) -> int:
        """Queue an incoming text message; chat_id defaults to the user's DM."""
        chat_id = user_id if chat_id is None else chat_id
        chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Test group"
        sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
        if username:
            sender["username"] = username
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        update_id = next(self._update_ids)
        with self._lock:
            self._updates.append({"update_id": update_id, "message": message})
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5)
        return message["message_id"]

    def fail_with(self, status: int | None, methods: tuple[str, ...] | None = None) -> None:
        """Answer calls (all, or only `methods`) with `status`, e.g. 502, until called with None."""
        self.failing_methods = frozenset(methods) if methods else None
        self.failing_status = status
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5)

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)
            ]

    def sent(self, chat_id: int | None = None, since: int = 0) -> list[Call]:
        """Successful sendMessage calls (optionally to one chat), from index `since` on."""
        calls = self.calls_to("sendMessage")[since:]
        return [c for c in calls if chat_id is None or int(c.params["chat_id"]) == chat_id]

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; calls: {self.summary()}")

    def wait_sent(self, chat_id: int, since: int = 0, timeout: float = 10.0) -> Call:
        """The first message sent to `chat_id` after the first `since` sendMessage calls."""
        return self.wait_for(
            lambda: next(iter(self.sent(chat_id, since)), None),
            timeout,
            f"a message to chat {chat_id}",
        )

    def summary(self) -> str:
        with self._lock:
            return ", ".join(
                f"{c.method}:{c.status}" for c in self.calls if c.method != "getUpdates"
            )

    # -- the API ---------------------------------------------------------------------------

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return data if isinstance(data, dict) else {}
        form = await request.post()
        return {k: _decode(v) for k, v in form.items() if isinstance(v, str)}

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any) -> None:
        with self._lock:
            self.calls.append(Call(method, params, status, result, time.time()))

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != TOKEN:
            self._record(method, params, 401, None)
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if self._failing(method):
            assert self.failing_status is not None
            self._record(method, params, self.failing_status, None)
            return web.Response(
                status=self.failing_status,
                text="<html>Bad Gateway</html>",
                content_type="text/html",
            )
        if method == "getUpdates":
            self.polls += 1
            result: Any = await self._get_updates(params)
            if self._failing(method):  # the outage began while we were waiting
                assert self.failing_status is not None
                self._record(method, params, self.failing_status, None)
                return web.Response(status=self.failing_status, text="Bad Gateway")
        elif method == "getMe":
            result = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Roomtone",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        elif method == "sendMessage":
            chat_id = int(params["chat_id"])
            result = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Roomtone"},
                "text": params.get("text", ""),
            }
        elif method in ("deleteMessage", "setMyCommands", "deleteWebhook"):
            result = True
        else:
            self._record(method, params, 404, None)
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method"}, status=404
            )
        self._record(method, params, 200, result)
        return web.json_response({"ok": True, "result": result})

    def _failing(self, method: str) -> bool:
        if self.failing_status is None:
            return False
        return self.failing_methods is None or method in self.failing_methods

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        assert self._changed is not None
        deadline = self._loop.time() + timeout
        async with self._changed:
            while True:
                with self._lock:
                    if offset:
                        # Telegram forgets updates below the offset: they are confirmed.
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    pending = list(self._updates)
                remaining = deadline - self._loop.time()
                if pending or remaining <= 0 or self._failing("getUpdates") or self.closing:
                    return pending
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
