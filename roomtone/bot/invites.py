"""Minting links for Telegram users and tokens for the bot's own server reads.

Links carry `sub` = the Telegram user id (or `chat:<id>` for a join notice's
link), so the server's logs can tell whose invite was used.
"""

from __future__ import annotations

import time

from roomtone.bot.config import BotConfig
from roomtone.invite import invite_url, mint_token

SERVICE_SUBJECT = "roomtone-bot"
SERVICE_TTL_SECONDS = 120
SERVICE_RENEW_BEFORE = 30


class Inviter:
    def __init__(self, config: BotConfig) -> None:
        if config.jwt_private_key is None:
            raise ValueError("the bot needs a private key")
        self.config = config
        self.key = config.jwt_private_key
        self._service: tuple[str, float] | None = None

    @property
    def ttl(self) -> int:
        return self.config.jwt_ttl_seconds

    def new_link(self, subject: str) -> tuple[str, float]:
        """A fresh invite URL and the unix time its token expires."""
        now = int(time.time())
        token = mint_token(self.key, subject, self.ttl, self.config.jwt_issuer, now=now)
        return invite_url(self.config.public_base_url, token), float(now + self.ttl)

    def service_token(self) -> str:
        """A short-lived token for GET /participants, reused until close to expiry."""
        now = time.time()
        if self._service is None or self._service[1] - now < SERVICE_RENEW_BEFORE:
            token = mint_token(
                self.key, SERVICE_SUBJECT, SERVICE_TTL_SECONDS, self.config.jwt_issuer, now=now
            )
            self._service = (token, int(now) + SERVICE_TTL_SECONDS)
        return self._service[0]
