"""The optional Telegram bot: `roomtone bot` hands out invite links and announces joins.

Configured by environment variables or the matching flags (bot/config.py,
docs/TELEGRAM_BOT.md); python-telegram-bot is imported only when the
subcommand runs, so `roomtone --help` stays quick.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from roomtone.bot.config import BotConfig, load_bot_config
from roomtone.variables import add_flags, with_flags


def add_bot_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bot",
        help="run the Telegram invite bot",
        description="Run the Telegram invite bot. Every option can also be set by the "
        "environment variable shown; a flag overrides the variable. TELEGRAM_BOT_TOKEN, "
        "PUBLIC_BASE_URL and BOT_JWT_PRIVATE_KEY(_FILE) are required; see docs/TELEGRAM_BOT.md.",
    )
    add_flags(parser, BotConfig)
    parser.set_defaults(func=run_bot)


def run_bot(args: argparse.Namespace) -> int:
    config = load_bot_config(with_flags(args, BotConfig, os.environ))
    if not config.enabled:
        print("roomtone: BOT_ENABLED is false; the bot is not started", file=sys.stderr)
        return 0
    from roomtone.bot.runner import run, setup_logging

    setup_logging(config)
    return asyncio.run(run(config))
