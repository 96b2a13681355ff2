"""`roomtone serve | bot | token | loadtest`.

Flags of `serve` mirror the environment variables (a flag wins over the
variable); configuration errors print one line naming the variable and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from roomtone import __version__
from roomtone.config import SERVER_VARIABLES, ConfigError, load_server_config

EXIT_CONFIG = 2


def _flag(variable: str) -> str:
    return "--" + variable.lower().replace("_", "-")


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the call server",
        description="Run the call server. Every option can also be set by the environment "
        "variable shown; a flag overrides the variable.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for variable, (default, meaning) in SERVER_VARIABLES.items():
        shown = default or "empty"
        is_bool = default in ("true", "false")
        parser.add_argument(
            _flag(variable),
            dest=variable,
            metavar="BOOL" if is_bool else "VALUE",
            nargs="?" if is_bool else None,
            const="true" if is_bool else None,
            help=f"{meaning} [env {variable}, default: {shown}]",
        )
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    for variable in SERVER_VARIABLES:
        value = getattr(args, variable, None)
        if value is not None:
            env[variable] = value
    config = load_server_config(env)
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
    for module, hook in (
        ("roomtone.bot", "add_bot_parser"),
        ("roomtone.invite", "add_token_parser"),
        ("roomtone.loadtest", "add_loadtest_parser"),
    ):
        try:
            add = getattr(__import__(module, fromlist=[hook]), hook)
        except (ImportError, AttributeError):
            continue  # that part of Roomtone is not installed in this build
        add(subparsers)
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
