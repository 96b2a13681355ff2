"""The bot's configuration: every variable declared once (see roomtone/variables.py).

The bot refuses to start without a token, the call's URL and a signing key;
everything else has a default. `roomtone bot`'s flags, `.env.example` and the
table in docs/TELEGRAM_BOT.md are derived from these declarations.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from roomtone.config import LOG_LEVELS
from roomtone.pem import PrivateKey
from roomtone.variables import (
    Bool,
    Choice,
    ConfigError,
    FilePath,
    HttpUrl,
    Ids,
    Int,
    Kind,
    Seconds,
    Text,
    load,
    variable,
)

__all__ = ["BotConfig", "ConfigError", "load_bot_config"]


class Command(Kind):
    """A Telegram command, stored with its leading slash."""

    metavar = "COMMAND"

    def parse(self, text: str, name: str) -> str:
        if not re.fullmatch(r"/?[a-z0-9_]{1,32}", text):
            raise ConfigError(name, "must be a Telegram command like /invite")
        return "/" + text.lstrip("/")


class Usernames(Kind):
    """@usernames separated by commas or spaces, compared without `@` and case."""

    metavar = "NAMES"

    def parse(self, text: str, name: str) -> frozenset[str]:
        return frozenset(u.lstrip("@").lower() for u in re.split(r"[,\s]+", text) if u)

    def show(self, value: Any) -> str:
        return ",".join(sorted(value or ()))


class Username(Kind):
    metavar = "NAME"

    def parse(self, text: str, name: str) -> str:
        return text.lstrip("@")


@dataclass(frozen=True)
class BotConfig:
    SECTION: ClassVar[str] = (
        'Telegram bot: `roomtone bot`, compose profile "bot" (docs/TELEGRAM_BOT.md)'
    )

    enabled: bool = variable(
        "BOT_ENABLED",
        Bool(),
        True,
        "false makes `roomtone bot` exit at once (handy in a shared .env)",
    )
    token: str = variable(
        "TELEGRAM_BOT_TOKEN",
        Text(),
        "",
        "the token from @BotFather",
        required="is required to run the bot",
    )
    public_base_url: str = variable(
        "PUBLIC_BASE_URL",
        HttpUrl("must be the call's http(s) URL, e.g. https://call.example"),
        "",
        "the call's public URL; links are PUBLIC_BASE_URL?token=JWT",
        required="must be the call's http(s) URL, e.g. https://call.example",
    )
    jwt_private_key: RSAPrivateKey | None = variable(
        "BOT_JWT_PRIVATE_KEY",
        PrivateKey(),
        None,
        "PEM RSA private key (>= 2048 bits) that signs the invite tokens",
        file_help="file holding the PEM RSA private key (if BOT_JWT_PRIVATE_KEY is empty)",
        required="or BOT_JWT_PRIVATE_KEY_FILE is required",
    )
    server_url: str = variable(
        "BOT_SERVER_URL",
        HttpUrl(),
        "",
        "where the bot reads /participants, if it reaches the server by another address "
        "(e.g. http://roomtone:5670 inside Docker); empty: PUBLIC_BASE_URL",
    )
    bot_username: str = variable(
        "TELEGRAM_BOT_USERNAME",
        Username(),
        "",
        "the bot's @name, to recognise mentions in groups; empty: asked from Telegram",
    )
    allowed_users: frozenset[int] = variable(
        "TELEGRAM_ALLOWED_USERS",
        Ids(),
        frozenset(),
        "user ids that may get invites (commas or spaces)",
    )
    allowed_chats: frozenset[int] = variable(
        "TELEGRAM_ALLOWED_CHATS",
        Ids(),
        frozenset(),
        "group ids where invites may be requested; empty: any group",
    )
    admin_users: frozenset[int] = variable(
        "TELEGRAM_ADMIN_USERS",
        Ids(),
        frozenset(),
        "user ids that may change the lists (and always get invites)",
    )
    admin_usernames: frozenset[str] = variable(
        "TELEGRAM_ADMIN_USERNAMES",
        Usernames(),
        frozenset(),
        "the same by @username (case-insensitive; ids are safer: usernames can change hands)",
    )
    notify_chats: frozenset[int] | None = variable(
        "TELEGRAM_NOTIFY_CHATS",
        Ids(),
        None,
        "chats that get join notices; empty: the allowed chats",
    )
    command: str = variable("BOT_COMMAND", Command(), "/invite", "the command that asks for a link")
    jwt_ttl_seconds: int = variable(
        "BOT_JWT_TTL_SECONDS",
        Int(5, 30 * 24 * 3600),
        300,
        "link lifetime in seconds (5 s to 30 days); the bot deletes its messages after it",
    )
    jwt_issuer: str = variable(
        "BOT_JWT_ISSUER", Text(), "roomtone-telegram", "the tokens' iss claim"
    )
    api_base_url: str = variable(
        "TELEGRAM_API_BASE_URL",
        HttpUrl(),
        "https://api.telegram.org",
        "Bot API endpoint (a local Bot API server, or a fake one in tests)",
    )
    state_file: Path = variable(
        "BOT_STATE_FILE",
        FilePath(),
        Path("roomtone-bot-state.json"),
        "admin changes and pending deletions (relative to the working directory)",
        example="",
        note="Empty: the default; the container sets /data/roomtone-bot-state.json.",
    )
    notify_poll_seconds: float = variable(
        "BOT_NOTIFY_POLL_SECONDS",
        Seconds(1, 3600),
        10.0,
        "how often the bot reads /participants for join notices, seconds",
    )
    log_level: str = variable(
        "LOG_LEVEL", Choice(*LOG_LEVELS), "info", "debug, info, warning or error"
    )

    def checked(self) -> BotConfig:
        # BOT_SERVER_URL defaults to another variable, so it is completed here.
        if not self.server_url:
            return dataclasses.replace(self, server_url=self.public_base_url)
        return self


def load_bot_config(env: Mapping[str, str] | None = None) -> BotConfig:
    """Parse the bot's variables; raises ConfigError on the first bad or missing one."""
    return load(BotConfig, os.environ if env is None else env)
