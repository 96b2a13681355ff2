"""Join notices: tell the chats when someone enters the call.

The server has no push channel for the bot, so we poll `GET /participants`
every `BOT_NOTIFY_POLL_SECONDS`. The first successful read is the baseline
(people already in the call are not announced after a bot restart); after that
every id not seen in the previous read is a newcomer. A failed read keeps the
previous list and backs off, so an outage does not re-announce everyone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from telegram import Bot

from roomtone.bot import messages
from roomtone.bot.access import Access
from roomtone.bot.backoff import Backoff, sleep_unless
from roomtone.bot.deletions import DeletionScheduler
from roomtone.bot.invites import Inviter
from roomtone.bot.sending import send

log = logging.getLogger("roomtone.bot.notifier")
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


class ServerError(Exception):
    """The server could not be read; the message is safe to log."""


def parse_participants(data: Any) -> dict[str, str]:
    """id → name from the `/participants` JSON array; anything malformed is an error."""
    if not isinstance(data, list):
        raise ServerError("/participants did not return a JSON array")
    people: dict[str, str] = {}
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            name = item.get("name")
            people[item["id"]] = name if isinstance(name, str) else ""
    return people


class JoinNotifier:
    def __init__(
        self,
        bot: Bot,
        access: Access,
        inviter: Inviter,
        deletions: DeletionScheduler,
        server_url: str,
        interval: float,
    ) -> None:
        self.bot = bot
        self.access = access
        self.inviter = inviter
        self.deletions = deletions
        self.url = f"{server_url.rstrip('/')}/participants"
        self.interval = interval
        self.known: dict[str, str] | None = None

    async def fetch(self, session: aiohttp.ClientSession) -> dict[str, str]:
        # Always present a service token: harmless when auth is off, required when on.
        headers = {
            "Authorization": f"Bearer {self.inviter.service_token()}",
            "Accept": "application/json",
        }
        try:
            async with session.get(self.url, headers=headers) as response:
                if response.status in (401, 403):
                    raise ServerError(
                        f"server refused the bot's service token ({response.status}); "
                        "does AUTH_PUBLIC_KEYS(_FILE) hold the public key of "
                        "BOT_JWT_PRIVATE_KEY?"
                    )
                if response.status != 200:
                    raise ServerError(f"GET /participants answered {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ServerError(f"GET /participants failed: {type(exc).__name__}: {exc}") from None
        return parse_participants(data)

    async def announce(self, name: str, stop: asyncio.Event) -> None:
        for chat_id in sorted(self.access.notify_chats()):
            url, expires = self.inviter.new_link(f"chat:{chat_id}")
            sent = await send(
                self.bot,
                chat_id,
                messages.join_notice(name, url),
                stop,
                html=True,
                give_up_after=min(60.0, self.inviter.ttl / 2),
            )
            if sent is not None:
                self.deletions.schedule(chat_id, sent.message_id, expires)

    async def poll_once(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        people = await self.fetch(session)
        if self.known is None:
            log.info("join notices: baseline of %d participants", len(people))
        else:
            for pid, name in people.items():
                if pid not in self.known:
                    log.info(
                        "participant joined; notifying %d chats", len(self.access.notify_chats())
                    )
                    await self.announce(name or "Someone", stop)
        self.known = people

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        # No cookie jar: the server answers a header token with a cookie we do not need.
        async with aiohttp.ClientSession(
            timeout=REQUEST_TIMEOUT, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            while not stop.is_set():
                try:
                    await self.poll_once(session, stop)
                except ServerError as exc:
                    delay = max(self.interval, backoff.next_delay())
                    log.warning("%s; retrying in %.1f s", exc, delay)
                    await sleep_unless(stop, delay)
                    continue
                backoff.reset()
                await sleep_unless(stop, self.interval)
