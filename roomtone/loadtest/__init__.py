"""`roomtone loadtest`: synthetic participants against any server speaking docs/PROTOCOL.md.

`ws` participants publish a recorder-like WebM in timeslices; `webrtc` and
`sfu` participants publish pre-encoded VP8 + Opus with aiortc. Every one also
receives everyone else's media, so the server does the full fan-out of a real
call; the report gives delivery, latency and (with --server-pid) server CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from roomtone.loadtest.options import add_arguments, from_namespace

EXIT_OK = 0
EXIT_FAILED = 1  # the run had errors or could not take place
EXIT_USAGE = 2


def add_loadtest_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `roomtone loadtest` (called by roomtone.cli)."""
    parser = subparsers.add_parser(
        "loadtest",
        help="load a server with synthetic participants and report CPU, latency, delivery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run_loadtest)


def run_loadtest(args: argparse.Namespace) -> int:
    """Run, print the summary table, write the JSON report; returns the exit code."""
    # Imported here so `roomtone serve` never loads aiortc/PyAV for this command.
    from roomtone.loadtest import report as reports
    from roomtone.loadtest.cpu import check_pid
    from roomtone.loadtest.runner import RunAborted, run

    try:
        options = from_namespace(args)
    except ValueError as exc:
        print(f"roomtone loadtest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if options.server_pid is not None:
        problem = check_pid(options.server_pid)
        if problem:
            print(f"roomtone loadtest: --server-pid: {problem}", file=sys.stderr)
            return EXIT_USAGE
    try:
        result = asyncio.run(run(options))
    except RunAborted as exc:
        print(f"roomtone loadtest: {exc}", file=sys.stderr)
        return EXIT_FAILED
    report = reports.build(result)
    print(reports.table(report))
    if options.json_path is not None:
        reports.write_json(report, options.json_path)
        print(f"report written to {options.json_path}", file=sys.stderr)
    return EXIT_FAILED if report["errors"] else EXIT_OK
