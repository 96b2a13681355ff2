"""The optional Telegram bot: `roomtone bot` hands out invite links and announces joins.

Configured only by environment variables (see docs/TELEGRAM_BOT.md); the heavy
imports happen when the subcommand runs, so `roomtone --help` stays quick.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys


def add_bot_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bot",
        help="run the Telegram invite bot",
        description="Run the Telegram invite bot. It is configured by environment variables: "
        "TELEGRAM_BOT_TOKEN, PUBLIC_BASE_URL, BOT_JWT_PRIVATE_KEY(_FILE) are required; "
        "see docs/TELEGRAM_BOT.md for the rest.",
    )
    parser.set_defaults(func=run_bot)


def run_bot(args: argparse.Namespace) -> int:
    from roomtone.config import load_bot_config

    config = load_bot_config(dict(os.environ))
    if not config.enabled:
        print("roomtone: BOT_ENABLED is false; the bot is not started", file=sys.stderr)
        return 0
    from roomtone.bot.runner import run, setup_logging

    setup_logging(config)
    return asyncio.run(run(config))
