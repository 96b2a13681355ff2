"""`roomtone serve | bot | token | loadtest`.

Flags of `serve` and `bot` are derived from the declared environment variables
(variables.py; a flag wins over the variable); configuration errors print one
line naming the variable and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from roomtone import __version__
from roomtone.bot import add_bot_parser
from roomtone.config import ConfigError, ServerConfig, load_server_config
from roomtone.invite import add_token_parser
from roomtone.loadtest import add_loadtest_parser
from roomtone.variables import add_flags, with_flags

EXIT_CONFIG = 2


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the call server",
        description="Run the call server. Every option can also be set by the environment "
        "variable shown; a flag overrides the variable.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, ServerConfig)
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    config = load_server_config(with_flags(args, ServerConfig, os.environ))
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from roomtone.server import serve

    asyncio.run(serve(config))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roomtone", description="Self-hosted single-room calls.")
    parser.add_argument("--version", action="version", version=f"roomtone {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_serve_parser(subparsers)
    add_bot_parser(subparsers)
    add_token_parser(subparsers)
    add_loadtest_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"roomtone: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
