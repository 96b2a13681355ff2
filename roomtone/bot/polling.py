"""Long polling (getUpdates) with our own backoff.

python-telegram-bot's Updater retries a timed-out poll immediately and backs
off without jitter; during an outage that is a tight loop. This loop owns the
offset, backs off with jitter on every failure (capped at 30 s) and hands
updates to the Application's queue, where the registered handlers run.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from roomtone.bot.backoff import Backoff, sleep_unless
from roomtone.bot.sending import retry_delay

log = logging.getLogger("roomtone.bot.polling")
LONG_POLL_SECONDS = 25
CONFIRM_TIMEOUT = 1.0
ALLOWED_UPDATES = ("message",)


class UpdatePoller:
    def __init__(self, app: Application, long_poll: int = LONG_POLL_SECONDS) -> None:
        self.app = app
        self.long_poll = long_poll
        self.offset: int | None = None
        self._confirmed: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset,
                    timeout=self.long_poll,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except InvalidToken:
                delay = backoff.next_delay()
                log.error("Telegram rejected TELEGRAM_BOT_TOKEN; retrying in %.1f s", delay)
            except TelegramError as exc:
                delay = retry_delay(exc, backoff)
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
            else:
                if backoff.failures:
                    log.info("Telegram reachable again")
                backoff.reset()
                self._confirmed = self.offset
                for update in updates:
                    await self.app.update_queue.put(update)
                    self.offset = update.update_id + 1
                continue
            await sleep_unless(stop, delay)

    async def confirm(self) -> None:
        """Tell Telegram the last updates were handled, so a restart does not replay them."""
        if self.offset is None or self.offset == self._confirmed:
            return
        try:
            await asyncio.wait_for(
                self.app.bot.get_updates(
                    offset=self.offset, timeout=0, allowed_updates=ALLOWED_UPDATES
                ),
                CONFIRM_TIMEOUT,
            )
        except (TelegramError, TimeoutError) as exc:
            log.warning("could not confirm the last updates (%s); they may be replayed", exc)
