"""Roomtone's SFU against Janus VideoRoom (C), the same participants, one command.

For each room size N and each round, a fresh Roomtone (`MEDIA_TRANSPORT=sfu`)
and a fresh Janus are loaded in turn (the order alternates between rounds,
so neither server always runs first) with N aiortc participants, each
publishing pre-encoded 640x480 VP8 at ~1 Mbit/s plus 32 kbit/s Opus
(bench/realmedia.py) and receiving every other participant: N x (N - 1)
video and as many audio streams. Participants run two per worker process
(bench/rtcworker.py). Per run, over `--seconds` after a warm-up: the
server's CPU, delivered frame rates and bitrates per stream, RTP packets
forwarded and the server's CPU time per packet, traffic on loopback, and
what else the machine did meanwhile (other helpers share it: compare the
servers within a round, and look at *other CPU* and *load*).

Runs itself inside tests/isolated.sh (a private network namespace, where
Janus gets an address on an ifb device, bench/janusserver.py). Janus:
`make bench-janus` installs it (Debian's `janus`).

    .venv/bin/python bench/janus_vs_sfu.py [--sizes 3,5,8] [--seconds 20] [--rounds 1]
        [--servers roomtone,janus] [--profile DIR] [--before EARLIER.json]

Results: bench/out/janus_vs_sfu.json and .md, the tables on stdout, the plot
docs/img/janus-vs-sfu.png. `--profile DIR`: also record py-spy profiles of
Roomtone at the largest size (an extra, unmeasured run; bench/sfuprofile.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import comparison, janusserver, realmedia  # noqa: E402
from bench.comparison import Result, Snapshot  # noqa: E402
from bench.workerproc import WorkerProcess  # noqa: E402
from tests.serverproc import stop_process  # noqa: E402

PER_WORKER = 2
OUT = ROOT / "bench" / "out"
PLOT = ROOT / "docs" / "img" / "janus-vs-sfu.png"
READY_TIMEOUT = 60.0  # seconds for every stream to flow after the joins


@contextlib.contextmanager
def server_process(server: str) -> Iterator[tuple[int, str, Callable[[], str]]]:
    """(pid, url, log tail) of a fresh server: Roomtone's WebSocket URL or Janus's HTTP base."""
    if server == "janus":
        with janusserver.running_janus() as janus:
            yield janus.pid, janus.url, janus.log_tail
    else:
        with running_roomtone() as (proc, port, log):
            yield proc.pid, f"ws://127.0.0.1:{port}/ws", lambda: log.read_text()[-3000:]


@contextlib.contextmanager
def running_roomtone() -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`roomtone serve` in sfu mode; a busy machine can take long to import aiortc."""
    port = janusserver.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFU_", "ICE_", "MEDIA_"))}
    env.update({"PORT": str(port), "HOST": "127.0.0.1", "MEDIA_TRANSPORT": "sfu"})
    env["LOG_LEVEL"] = "warning"
    with tempfile.TemporaryDirectory(prefix="roomtone-bench-") as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "roomtone", "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            janusserver.wait_http(proc, f"http://127.0.0.1:{port}/health", log)
            yield proc, port, log
        finally:
            stop_process(proc)


async def join_all(server: str, url: str, workers: list[WorkerProcess], n: int) -> dict[str, str]:
    """Everyone joins and publishes; returns the senders' labels (Roomtone id → name)."""
    names = [f"P{i}" for i in range(n)]
    placement = [names[i :: len(workers)] for i in range(len(workers))]
    if server == "roomtone":
        labels: dict[str, str] = {}
        for i in range(n):  # one at a time, as people arrive
            worker = workers[i % len(workers)]
            reply = await worker.ask(cmd="join", url=url, names=[names[i]])
            labels.update({v: k for k, v in reply["ids"].items()})
        return labels
    replies = await asyncio.gather(
        *(w.ask(cmd="publish", url=url, names=p) for w, p in zip(workers, placement, strict=True))
    )
    feeds = {str(feed): name for reply in replies for name, feed in reply["feeds"].items()}
    await asyncio.gather(*(w.ask(cmd="subscribe", feeds=feeds) for w in workers))
    return {}


async def snapshot(pid: int, workers: list[WorkerProcess], labels: dict[str, str]) -> Snapshot:
    replies = await asyncio.gather(*(w.ask(cmd="report") for w in workers))
    streams = {
        (receiver, labels.get(sender, sender), kind): (frames, size)
        for reply in replies
        for receiver, sender, kind, frames, size in reply["streams"]
    }
    traffic: dict[str, int] = {}
    for reply in replies:
        for key, value in reply["traffic"].items():
            traffic[key] = traffic.get(key, 0) + value
    return Snapshot(
        at=time.monotonic(),
        server_cpu=comparison.process_cpu_seconds(pid),
        machine_busy=comparison.machine_busy_seconds(),
        loopback=comparison.loopback_bytes(),
        udp_drops=comparison.udp_receive_drops(),
        server_drops=comparison.socket_drops(pid),
        clients_cpu=sum(w.cpu_seconds() for w in workers),
        streams=streams,
        traffic=traffic,
    )


async def wait_flowing(
    pid: int, workers: list[WorkerProcess], labels: dict[str, str], n: int
) -> bool:
    """Wait until every video stream delivered a second of frames; False if some never did."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        snap = await snapshot(pid, workers, labels)
        video = {k: f for k, (f, _) in snap.streams.items() if k[2] == "video"}
        slow = sorted(f"{r}<-{s}: {f}" for (r, s, _), f in video.items() if f < 30)
        if len(video) == n * (n - 1) and not slow:
            return True
        if time.monotonic() > deadline:
            print(
                f"  not ready: {len(video)} of {n * (n - 1)} video streams, "
                f"slow (frames so far): {', '.join(slow) or 'none'}; measuring anyway",
                file=sys.stderr,
            )
            return False
        await asyncio.sleep(0.5)


Hook = Callable[[int, float], Awaitable[None]]


async def run_case(
    server: str,
    n: int,
    round_: int,
    seconds: float,
    warmup: float,
    during: Hook | None = None,
) -> Result:
    """One server, one room of `n`; `during(pid, seconds)` replaces the plain wait if given."""
    workers = [
        await WorkerProcess.start(ROOT / "bench" / "rtcworker.py")
        for _ in range((n + PER_WORKER - 1) // PER_WORKER)
    ]
    try:
        with server_process(server) as (pid, url, log_tail):
            labels = await join_all(server, url, workers, n)
            ready = await wait_flowing(pid, workers, labels, n)
            await asyncio.sleep(warmup)
            load1 = comparison.load_average()
            before = await snapshot(pid, workers, labels)
            await (during(pid, seconds) if during else asyncio.sleep(seconds))
            after = await snapshot(pid, workers, labels)
            errors = sum(len(r.get("errors", [])) for r in await _reports(workers))
            if errors or not ready:
                print(log_tail(), file=sys.stderr)
    finally:
        await asyncio.gather(*(w.quit() for w in workers))
    result = comparison.window(server, n, round_, before, after, load1)
    result.errors = errors
    result.ready = ready
    return result


async def _reports(workers: list[WorkerProcess]) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(w.ask(cmd="report") for w in workers)))


def reexec_isolated() -> None:
    """Run this command again inside tests/isolated.sh unless already there."""
    if os.environ.get("ROOMTONE_ISOLATED") == "1":
        return
    command = [str(ROOT / "tests" / "isolated.sh"), sys.executable, *sys.argv]
    sys.exit(subprocess.call(command))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,5,8", help="room sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each server per size")
    parser.add_argument("--servers", default="roomtone,janus")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--profile", type=Path, help="also profile Roomtone (py-spy) into DIR")
    parser.add_argument(
        "--quiet-load",
        type=float,
        help="before each run, wait (up to --quiet-wait s) for the 1-minute load below this",
    )
    parser.add_argument("--quiet-wait", type=float, default=600.0)
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="measure nothing: tables and plot from earlier runs' janus_vs_sfu.json (merged)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="JSON",
        help="an earlier janus_vs_sfu.json whose Roomtone figures the plot shows too",
    )
    return parser.parse_args()


async def wait_quiet(load: float, patience: float) -> None:
    """Give other work on a shared machine a chance to finish before a run."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if comparison.load_average() < load:
            return
        await asyncio.sleep(5)


async def measure(args: argparse.Namespace) -> list[Result]:
    servers = args.servers.split(",")
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        for round_ in range(1, args.rounds + 1):
            order = servers if round_ % 2 else servers[::-1]
            for server in order:
                if args.quiet_load is not None:
                    await wait_quiet(args.quiet_load, args.quiet_wait)
                print(f"{server}, {n} participants, round {round_}…", file=sys.stderr)
                try:
                    result = await run_case(server, n, round_, args.seconds, args.warmup)
                except Exception as exc:  # one failed run must not lose the others
                    print(f"  failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                print(f"  {result}", file=sys.stderr)
                results.append(result)
    return results


def write_report(results: list[Result], args: argparse.Namespace) -> None:
    """JSON and Markdown into --out, the tables on stdout, the plot."""
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "command": " ".join(["bench/janus_vs_sfu.py", *sys.argv[1:]]),
        "cpus": os.cpu_count(),
        "media_kbps": {
            "video": round(realmedia.clip_kbps(realmedia.video_layer("f"))),
            "audio": round(realmedia.clip_kbps(realmedia.audio())),
        },
        "results": [asdict(r) for r in results],
        "summary": comparison.summary(results),
    }
    (args.out / "janus_vs_sfu.json").write_text(json.dumps(report, indent=2) + "\n")
    text = comparison.table(results)
    (args.out / "janus_vs_sfu.md").write_text(text + "\n")
    print(text)
    before = None
    if args.before:
        before = [Result(**r) for r in json.loads(args.before.read_text())["results"]]
    with contextlib.suppress(ImportError):
        print(f"\nplot: {comparison.plot(results, args.plot, before)}", file=sys.stderr)


def main() -> None:
    args = parse_args()
    if args.report:
        loaded = [json.loads(path.read_text())["results"] for path in args.report]
        merged = [Result(**{**r, "batch": i}) for i, rows in enumerate(loaded) for r in rows]
        write_report(merged, args)
        return
    reexec_isolated()
    if "janus" in args.servers and not janusserver.installed():
        sys.exit("janus is not installed: make bench-janus (or apt-get install janus)")
    realmedia.clips()  # encode (or load) the media before anything is timed
    write_report(asyncio.run(measure(args)), args)
    if args.profile:
        from bench import sfuprofile

        size = max(int(x) for x in args.sizes.split(","))
        sfuprofile.record(args.profile, size, args.seconds, run_case)


if __name__ == "__main__":
    main()
