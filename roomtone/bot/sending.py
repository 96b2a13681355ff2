"""Sending to Telegram with retries, because a reply lost to a 502 is a lost invite.

Temporary failures (5xx, timeouts, DNS, 429 RetryAfter) are retried with
backoff until `give_up_after`; permanent ones (bad request, bot blocked or
removed from the chat) are logged once. Retrying stops as soon as the bot is
shutting down, so SIGTERM is never held up by an outage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import warnings

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from roomtone.bot.backoff import Backoff, sleep_unless

log = logging.getLogger("roomtone.bot")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_delay(exc: TelegramError, backoff: Backoff) -> float:
    """The backoff delay, or Telegram's own RetryAfter if that is longer."""
    delay = backoff.next_delay()
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # int vs timedelta deprecation in PTB 22
            value = exc.retry_after
        seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
        delay = max(delay, seconds + 0.5)
    return delay


async def send(
    bot: Bot,
    chat_id: int,
    text: str,
    stop: asyncio.Event,
    *,
    html: bool = False,
    reply_to: int | None = None,
    give_up_after: float = 60.0,
) -> Message | None:
    """Send `text`; the sent Message, or None if it could not be delivered in time."""
    deadline = time.monotonic() + give_up_after
    backoff = Backoff(base=0.5)
    while True:
        try:
            return await bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=NO_PREVIEW,
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to
                    else None
                ),
            )
        except (BadRequest, Forbidden) as exc:
            log.warning("cannot send to chat %s: %s", chat_id, exc)
            return None
        except TelegramError as exc:
            delay = retry_delay(exc, backoff)
            if time.monotonic() + delay > deadline:
                log.warning("giving up sending to chat %s: %s", chat_id, exc)
                return None
            log.warning("sending to chat %s failed (%s); retrying in %.1f s", chat_id, exc, delay)
            if await sleep_unless(stop, delay):
                return None
