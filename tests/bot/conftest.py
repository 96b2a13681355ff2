"""Fixtures: one real auth-mode server, a fresh fake Bot API and bot processes per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bot.botproc import BotProcess, start_bot
from tests.bot.fakeapi import TOKEN, FakeBotApi
from tests.keys import private_pem, public_pem
from tests.serverproc import ServerProcess, running_server

ADMIN = 1001
USER = 2002
STRANGER = 3003
GROUP = -1001500
OTHER_GROUP = -1001600


@pytest.fixture(scope="session")
def bot_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("botkeys")
    private, public = directory / "bot.key", directory / "bot.pub"
    private.write_text(private_pem("bot"))
    private.chmod(0o600)
    public.write_text(public_pem("bot"))
    return private, public


@pytest.fixture(scope="session")
def server(bot_keys: tuple[Path, Path]) -> Iterator[ServerProcess]:
    # The bot only needs presence (/participants, join); the mesh relay is the lightest mode.
    env = {
        "AUTH_ENABLED": "true",
        "AUTH_PUBLIC_KEYS_FILE": str(bot_keys[1]),
        "MEDIA_TRANSPORT": "webrtc",
    }
    with running_server(env=env) as process:
        yield process


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def bot_env(
    api: FakeBotApi, server: ServerProcess, bot_keys: tuple[Path, Path], tmp_path: Path
) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        "PUBLIC_BASE_URL": server.url,
        "BOT_JWT_PRIVATE_KEY_FILE": str(bot_keys[0]),
        "TELEGRAM_ALLOWED_USERS": str(USER),
        "TELEGRAM_ALLOWED_CHATS": str(GROUP),
        "TELEGRAM_ADMIN_USERS": str(ADMIN),
        "BOT_STATE_FILE": str(tmp_path / "state" / "bot-state.json"),
        "BOT_NOTIFY_POLL_SECONDS": "1",
        "LOG_LEVEL": "info",
    }


@pytest.fixture
def launch(api: FakeBotApi) -> Iterator[Callable[[dict[str, str]], BotProcess]]:
    """Start a bot and wait until it polls; every bot still running is stopped at the end."""
    started: list[BotProcess] = []

    def _launch(env: dict[str, str]) -> BotProcess:
        polls = api.polls
        bot = start_bot(env)
        started.append(bot)
        bot.wait_output('"bot_started"')
        api.wait_for(lambda: api.polls > polls, what="the bot to poll")
        return bot

    yield _launch
    for bot in started:
        bot.stop()
