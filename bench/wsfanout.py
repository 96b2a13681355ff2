"""WS fan-out benchmark: `roomtone loadtest --mode ws` for 2..10 participants, each
against a fresh server, written to docs/BENCHMARKS.md (section "WS fan-out") with a plot.

A fresh server per room size keeps one run's leftovers (queues, caches, memory)
out of the next. The load generator runs in its own process, as a user would run it.

    .venv/bin/python bench/wsfanout.py [--duration 20] [--max 10] [--bitrate 600]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.plot import panels, replace_section  # noqa: E402
from tests.serverproc import running_server  # noqa: E402

OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "BENCHMARKS.md"
PLOT = ROOT / "docs" / "img" / "ws-fanout.png"
HEADING = "## WS fan-out"
CUTS = ("anywhere", "elements")


def measure(size: int, args: argparse.Namespace, cut: str) -> dict[str, Any]:
    report_path = OUT / f"ws-{cut}-{size}.json"
    report_path.unlink(missing_ok=True)
    with running_server({"MEDIA_TRANSPORT": "ws", "LOG_LEVEL": "warning"}) as server:
        command = [
            sys.executable, "-m", "roomtone", "loadtest", "--url", server.url, "--mode", "ws",
            "--participants", str(size), "--duration", str(args.duration),
            "--bitrate", str(args.bitrate), "--cut", cut,
            "--server-pid", str(server.proc.pid), "--json", str(report_path),
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if not report_path.exists():
        raise SystemExit(f"loadtest failed for {size} participants:\n{done.stderr}")
    report = json.loads(report_path.read_text())
    print(
        f"{cut:>8} {size:>2} participants: CPU {report['server_cpu_percent']} %, "
        f"p50 {report['latency_ms']['p50']} ms, p99 {report['latency_ms']['p99']} ms, "
        f"RSS {report['server_rss_max_mb']} MiB, delivery {report['delivery_ratio']}",
        file=sys.stderr,
    )
    return report


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPU ({model or platform.machine()}), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def cell(value: Any) -> str:
    return "–" if value is None else f"{value}"


def section(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    sizes = [r["participants"] for r in results["anywhere"]]
    command = f".venv/bin/python bench/wsfanout.py --duration {args.duration:g} --max {args.max}"
    command += f" --bitrate {args.bitrate}"
    lines = [
        "Server cost of the `ws` relay: every participant publishes a recorder-like WebM",
        f"(VP8 320x240 + Opus, {args.bitrate} kbit/s, 200 ms timeslices) and receives all",
        "the others, so the server forwards n x (n - 1) streams. One fresh server per",
        f"room size, {args.duration:g} s measured after everyone joined. Load generator and",
        "server share the machine.",
        "",
        f"Reproduce: `{command}` (or `make bench`); one point by hand:",
        f"`roomtone loadtest --url http://127.0.0.1:5670 --mode ws --participants 10 "
        f"--duration {args.duration:g} --server-pid $(pgrep -f 'roomtone serve') --json r.json`.",
        "",
        f"Machine: {machine()}.",
        "",
        "Latency is from a chunk's send to the arrival, at a receiver, of the frame",
        "holding its last byte. With chunks cut at any byte (MediaRecorder may), the",
        "relay forwards only whole WebM elements, so a chunk's tail waits for the next",
        "chunk: about one timeslice. With chunks ending on block boundaries",
        "(`--cut elements`) that wait disappears and what remains is the relay's own delay.",
        "",
        "| participants | streams forwarded | server CPU % of one core | max RSS MiB "
        "| p50 ms | p99 ms | p50 ms (`--cut elements`) | p99 ms (`--cut elements`) "
        "| delivered |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, any_r, elem_r in zip(sizes, results["anywhere"], results["elements"], strict=True):
        lines.append(
            f"| {size} | {size * (size - 1)} | {cell(any_r['server_cpu_percent'])} "
            f"| {cell(any_r['server_rss_max_mb'])} | {cell(any_r['latency_ms']['p50'])} "
            f"| {cell(any_r['latency_ms']['p99'])} | {cell(elem_r['latency_ms']['p50'])} "
            f"| {cell(elem_r['latency_ms']['p99'])} | {cell(any_r['delivery_ratio'])} |"
        )
    lines += [
        "",
        "CPU and memory are from the `--cut anywhere` runs (the `elements` runs are within",
        "noise of them); *delivered* is the share of expected chunks that arrived.",
        "",
        f"![ws fan-out: server CPU, latency and memory by room size](img/{PLOT.name})",
    ]
    return "\n".join(lines)


def plot(results: dict[str, list[dict[str, Any]]]) -> None:
    sizes = [r["participants"] for r in results["anywhere"]]
    anywhere, elements = results["anywhere"], results["elements"]
    panels(
        PLOT,
        sizes,
        "participants",
        [
            (
                "server CPU, % of one core",
                {"ws relay": [r["server_cpu_percent"] for r in anywhere]},
            ),
            (
                "latency, ms",
                {
                    "p50 (cut anywhere)": [r["latency_ms"]["p50"] for r in anywhere],
                    "p99 (cut anywhere)": [r["latency_ms"]["p99"] for r in anywhere],
                    "p50 (cut elements)": [r["latency_ms"]["p50"] for r in elements],
                    "p99 (cut elements)": [r["latency_ms"]["p99"] for r in elements],
                },
            ),
            ("server max RSS, MiB", {"ws relay": [r["server_rss_max_mb"] for r in anywhere]}),
        ],
        "Roomtone ws fan-out",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per room size")
    parser.add_argument("--max", type=int, default=10, help="largest room (from 2)")
    parser.add_argument("--bitrate", type=int, default=600, help="kbit/s per participant")
    args = parser.parse_args()
    if not 2 <= args.max <= 30:
        parser.error("--max must be within 2-30")
    OUT.mkdir(parents=True, exist_ok=True)
    results = {cut: [measure(n, args, cut) for n in range(2, args.max + 1)] for cut in CUTS}
    (OUT / "ws-fanout.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results)
    replace_section(DOC, HEADING, section(results, args))
    print(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}", file=sys.stderr)
    print(shlex.join(sys.argv), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
