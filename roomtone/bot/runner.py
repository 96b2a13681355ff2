"""Running the bot process: build the Application, start the loops, stop on SIGTERM.

Three loops run side by side (updates, deletions, join notices); none of them
ever gives up on a network error. On SIGTERM/SIGINT they are stopped, the last
updates are confirmed to Telegram and the process exits within a few seconds,
as container orchestrators expect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from roomtone import eventlog
from roomtone.bot.access import Access
from roomtone.bot.backoff import Backoff, sleep_unless
from roomtone.bot.config import BotConfig
from roomtone.bot.deletions import DeletionScheduler
from roomtone.bot.handlers import BotServices, Handlers
from roomtone.bot.invites import Inviter
from roomtone.bot.notifier import JoinNotifier
from roomtone.bot.polling import UpdatePoller
from roomtone.bot.sending import retry_delay
from roomtone.bot.state import StateStore

log = logging.getLogger("roomtone.bot")
STOP_BUDGET_SECONDS = 2.0


class RedactingFormatter(logging.Formatter):
    """Keeps the bot token (part of every Bot API URL) and `token=` values out of logs."""

    def __init__(self, secret: str) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secret = secret

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.secret:
            text = text.replace(self.secret, "<bot-token>")
        return eventlog.redact(text)


def setup_logging(config: BotConfig) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(config.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level.upper())
    # httpx logs every request URL at INFO, and those URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def build_application(config: BotConfig) -> Application:
    api = config.api_base_url.rstrip("/")
    return (
        Application.builder()
        .token(config.token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .updater(None)  # polling is ours: see polling.py
        # One update at a time, in order: admin changes apply in the order they were sent.
        .concurrent_updates(False)
        .connect_timeout(10)
        .read_timeout(10)
        .write_timeout(10)
        .build()
    )


async def initialize(app: Application, stop: asyncio.Event) -> bool:
    """getMe until it works (Telegram may be down when we start); False if stopped first."""
    backoff = Backoff()
    while not stop.is_set():
        try:
            await app.initialize()
            return True
        except InvalidToken:
            delay = backoff.next_delay()
            log.error("Telegram rejected TELEGRAM_BOT_TOKEN; retrying in %.1f s", delay)
        except TelegramError as exc:
            delay = retry_delay(exc, backoff)
            log.warning("cannot reach Telegram (%s); retrying in %.1f s", exc, delay)
        await sleep_unless(stop, delay)
    return False


async def publish_commands(app: Application, config: BotConfig) -> None:
    """Best effort: the command menu is a nicety, never worth a retry loop."""
    commands = [
        (config.command.lstrip("/"), "get a link to the call"),
        ("whoami", "show your user id and this chat's id"),
        ("help", "what this bot does"),
    ]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:
        log.info("could not publish the command menu: %s", exc)


async def run(config: BotConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    store = StateStore(config.state_file)
    store.load()
    access = Access(config, store)
    inviter = Inviter(config)
    app = build_application(config)
    deletions = DeletionScheduler(app.bot, store)
    services = BotServices(config, access, inviter, deletions, stop)
    Handlers(services).register(app)

    if not await initialize(app, stop):
        await app.bot.shutdown()
        return 0
    services.username = config.bot_username or app.bot.username or ""
    await app.start()
    poller = UpdatePoller(app)
    notifier = JoinNotifier(
        app.bot, access, inviter, deletions, config.server_url, config.notify_poll_seconds
    )
    tasks = [
        asyncio.create_task(poller.run(stop), name="updates"),
        asyncio.create_task(deletions.run(stop), name="deletions"),
        asyncio.create_task(notifier.run(stop), name="join-notices"),
        asyncio.create_task(publish_commands(app, config), name="commands"),
    ]
    eventlog.emit("bot_started", username=services.username, command=config.command)
    await stop.wait()
    log.info("stopping")
    await _stop(app, poller, tasks)
    eventlog.emit("bot_stopped")
    return 0


async def _stop(app: Application, poller: UpdatePoller, tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    try:
        # Handles the updates already fetched; a reply stuck in an outage is not waited for.
        await asyncio.wait_for(app.stop(), STOP_BUDGET_SECONDS)
    except (TimeoutError, RuntimeError) as exc:
        log.warning("handlers did not finish in time (%r); exiting anyway", exc)
    await poller.confirm()
    try:
        await asyncio.wait_for(app.shutdown(), 0.5)
    except (TimeoutError, RuntimeError):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.bot.shutdown(), 0.5)
