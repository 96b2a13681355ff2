"""Weak-link benchmark: what a participant on a small, lossy link gets, per media mode.

Three headless Chromium participants A, B and C (Chromium's fake camera at
640x480, 20 fps, and fake microphone) in one call per mode (`sfu`, `webrtc`,
`ws`; a fresh server and browser each). After an unconstrained baseline, C's
downlink is cut step by step to each rate with random loss (tests/netshape.py:
HTB + TBF + nftables on the namespace's loopback), A and B staying
unconstrained; then the limit is lifted. For some modes C's *uplink* is cut
too (after the downlink cases). Each step: settle, then measure every
participant over the same window inside its page (tests/e2e/mediaprobe.py).

    .venv/bin/python bench/weaklink.py [--modes sfu,webrtc,ws] [--rates 2000,1000,500,250,150]
        [--loss 0.02] [--settle 10] [--seconds 20] [--uplink-modes sfu,webrtc,ws]
        [--uplink-rate 300] [--docs]

Runs itself inside tests/isolated.sh (it shapes that namespace's loopback).
Results: bench/out/weaklink.json and bench/out/weaklink.md; `--docs` also puts
the section "Weak link" into docs/BENCHMARKS.md; `--merge` re-measures only
`--modes` and keeps the other modes' results from the last run; `--report-only`
rewrites the tables (and with `--docs` the section) from the last run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, BrowserContext, sync_playwright  # noqa: E402

from bench.plot import replace_section  # noqa: E402
from bench.weaklinktable import section, table  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP  # noqa: E402
from tests.e2e.weakcall import NAMES, WEAK, ThreeWayCall, join_three, server_env  # noqa: E402
from tests.netshape import (  # noqa: E402
    Conditions,
    Direction,
    Link,
    LoopbackShaper,
    in_isolated_namespace,
)
from tests.serverproc import running_server  # noqa: E402

OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "BENCHMARKS.md"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODE_ORDER = ["sfu", "webrtc", "ws"]


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    total = sum(fields) / CLK_TCK
    return total - (fields[3] + fields[4]) / CLK_TCK, total


class Run:
    """One mode's call: C's link is shaped step by step and everyone measured."""

    def __init__(self, call: ThreeWayCall, net: LoopbackShaper, args: argparse.Namespace):
        self.call, self.net, self.args = call, net, args
        self.link: Link | None = None
        self.direction = Direction.DOWN
        self.conditions: Conditions | None = None

    def shape(self, direction: Direction, conditions: Conditions | None) -> None:
        if self.link is not None:
            self.net.lift(self.link)
        self.link = self.call.weak_link() if conditions else None
        self.direction, self.conditions = direction, conditions
        if self.link is not None and conditions is not None:
            self.net.limit(self.link, direction, conditions)

    def step(self, case: str) -> dict[str, Any]:
        time.sleep(self.args.settle)
        reconnected = self._follow_reconnect()
        busy0, total0 = machine_busy()
        report = self.call.measure(self.args.seconds)
        busy1, total1 = machine_busy()
        reconnected = self._follow_reconnect() or reconnected
        views = {
            viewer: {
                sender: asdict(got) if (got := report.got(viewer, sender)) else None
                for sender in NAMES
                if sender != viewer
            }
            for viewer in NAMES
        }
        shaper = None
        if self.link is not None:
            shaper = asdict(self.net.stats(self.link, self.direction))
        result = {
            "mode": self.call.mode,
            "case": case,
            "direction": self.direction.value if self.conditions else None,
            "rate_kbit": self.conditions.rate_kbit if self.conditions else None,
            "loss": self.conditions.loss if self.conditions else None,
            "seconds": self.args.seconds,
            "views": views,
            "sent_video": {n: [asdict(s) for s in report.reports[n].sent_video] for n in NAMES},
            "shaper": shaper,
            "reconnected": reconnected,
            "machine_busy_cores": round((busy1 - busy0) / (total1 - total0) * os.cpu_count(), 2)
            if total1 > total0
            else None,
            "load_1min": os.getloadavg()[0],
            "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        }
        print(progress(result), flush=True)
        return result

    def _follow_reconnect(self) -> bool:
        """If C's media moved (a rejoin: new ports), move the limit with it."""
        if self.link is None or self.conditions is None:
            return False
        try:
            now = self.call.weak_link()
        except AssertionError:  # between connections
            return True
        if now == self.link:
            return False
        self.shape(self.direction, self.conditions)
        return True


def progress(r: dict[str, Any]) -> str:
    c = r["views"][WEAK]
    parts = [f"{r['mode']:6} {r['case']:8} {r['rate_kbit'] or '-'!s:>6}"]
    for sender, got in c.items():
        if got is None:
            parts.append(f"C<-{sender} none")
            continue
        audio = got["audio_concealed"]
        parts.append(
            f"C<-{sender} {got['fps']:.1f} fps, frozen {got['frozen']:.0%}, "
            f"{got['width']}x{got['height']}, audio " + ("-" if audio is None else f"{audio:.1%}")
        )
    return " | ".join(parts)


def run_mode(browser: Browser, mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []

    def new_context() -> BrowserContext:
        context = browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(30_000)
        return context

    with running_server(server_env(mode, ROOT / "roomtone" / "static")) as server:
        with LoopbackShaper() as net:
            call = join_three(new_context, server, mode)
            call.wait_for_media()
            run = Run(call, net, args)
            results.append(run.step("baseline"))
            for rate in args.rates:
                run.shape(Direction.DOWN, Conditions(rate, args.loss))
                results.append(run.step("downlink"))
            run.shape(Direction.DOWN, None)
            results.append(run.step("lifted"))
            if mode in args.uplink_modes:
                run.shape(Direction.UP, Conditions(args.uplink_rate, args.loss))
                results.append(run.step("uplink"))
                run.shape(Direction.UP, None)
            for participant in call.participants.values():
                participant.page.context.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="sfu,webrtc,ws")
    parser.add_argument("--rates", default="2000,1000,500,250,150", help="C's downlink, kbit/s")
    parser.add_argument("--loss", type=float, default=0.02, help="random loss on C's link")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after each change")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per step")
    parser.add_argument("--uplink-modes", default="sfu,webrtc,ws", help="modes with an uplink case")
    parser.add_argument("--uplink-rate", type=float, default=300.0, help="C's uplink, kbit/s")
    parser.add_argument("--docs", action="store_true", help="write docs/BENCHMARKS.md's section")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other modes' results of the last run"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only rewrite the tables from the last run"
    )
    args = parser.parse_args()
    if args.report_only:
        return report(json.loads((OUT / "weaklink.json").read_text()), args.docs)
    if not in_isolated_namespace():
        # Shaping lo is only safe in a private namespace: run again inside one.
        isolated = str(ROOT / "tests" / "isolated.sh")
        os.execv(isolated, [isolated, sys.executable, *sys.argv])
    args.modes = [m for m in args.modes.split(",") if m]
    args.rates = [float(r) for r in args.rates.split(",") if r]
    args.uplink_modes = [m for m in args.uplink_modes.split(",") if m]
    if not (ROOT / "roomtone" / "static" / "index.html").is_file():
        parser.error("no built web client: run `make web` first")

    results: list[dict[str, Any]] = []
    version = "?"
    with sync_playwright() as p:
        for mode in args.modes:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                version = browser.version
                results += run_mode(browser, mode, args)
            finally:
                browser.close()
    meta = {
        "args": {k: v for k, v in vars(args).items() if k not in ("docs", "merge")},
        "machine": f"{os.cpu_count()} CPU, Linux {platform.release()}, Chromium {version}",
    }
    if args.merge and (OUT / "weaklink.json").is_file():
        kept = json.loads((OUT / "weaklink.json").read_text())["results"]
        results = [r for r in kept if r["mode"] not in args.modes] + results
        results.sort(key=lambda r: MODE_ORDER.index(r["mode"]))  # stable: steps stay in order
    OUT.mkdir(parents=True, exist_ok=True)
    run = {"meta": meta, "results": results}
    (OUT / "weaklink.json").write_text(json.dumps(run, indent=2))
    return report(run, args.docs)


def report(run: dict[str, Any], docs: bool) -> int:
    markdown = table(run["results"])
    (OUT / "weaklink.md").write_text(markdown + "\n")
    print(markdown)
    if docs:
        replace_section(DOC, "## Weak link", section(run["results"], run["meta"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
