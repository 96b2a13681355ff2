"""Deleting invites and join notices when the token they carry expires.

An expired link is useless and a chat full of them is noise. Each deletion is
written to the state file before we wait for it, so a message that falls due
while the bot is down is deleted right after the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from roomtone.bot.backoff import Backoff, sleep_unless
from roomtone.bot.sending import retry_delay
from roomtone.bot.state import PendingDeletion, StateStore

log = logging.getLogger("roomtone.bot.deletions")


class DeletionScheduler:
    def __init__(self, bot: Bot, store: StateStore) -> None:
        self.bot = bot
        self.store = store
        self._wake = asyncio.Event()

    def schedule(self, chat_id: int, message_id: int, due: float) -> None:
        self.store.deletions.append(PendingDeletion(chat_id, message_id, due))
        self.store.save()
        self._wake.set()

    def _next_due(self) -> PendingDeletion | None:
        return min(self.store.deletions, key=lambda d: d.due, default=None)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep until `seconds` pass, a new deletion is scheduled, or we stop."""
        self._wake.clear()
        wake = asyncio.create_task(self._wake.wait())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait(
                {wake, stopped}, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            wake.cancel()
            stopped.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            pending = self._next_due()
            if pending is None:
                await self._wait(stop, 3600)
                continue
            wait = pending.due - time.time()
            if wait > 0:
                await self._wait(stop, wait)
                continue
            try:
                await self.bot.delete_message(pending.chat_id, pending.message_id)
                log.info("deleted message %s in chat %s", pending.message_id, pending.chat_id)
            except (BadRequest, Forbidden) as exc:
                # Already gone, too old (48 h limit) or the bot left the chat: nothing to retry.
                log.warning(
                    "cannot delete message %s in chat %s: %s",
                    pending.message_id,
                    pending.chat_id,
                    exc,
                )
            except TelegramError as exc:
                delay = retry_delay(exc, backoff)
                log.warning("deleting a message failed (%s); retrying in %.1f s", exc, delay)
                await sleep_unless(stop, delay)
                continue
            backoff.reset()
            self.store.deletions = [d for d in self.store.deletions if d != pending]
            self.store.save()
