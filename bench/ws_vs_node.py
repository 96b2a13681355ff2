"""ws relay against the original TypeScript/Node Roomtone server, same load, paired rounds.

Both servers speak the same wire protocol (docs/PROTOCOL.md), so one load
generator, `roomtone loadtest --mode ws`, drives either: N participants each
publishing a recorder-like WebM (VP8 + Opus at the requested size and bitrate)
and receiving everyone else's. The Node original forwards each chunk as it
came; ours parses it, re-clusters it at keyframes and keeps late-join history,
which is what the ratio prices.

Each round runs every server fresh, one after another, in rotating order;
the ratio is taken within a round (a server's CPU / Node's) so that the load
other processes put on the machine cancels out, and the median over rounds
is the figure. `--baseline REF` adds Roomtone as of a git commit (its
`roomtone/` exported to bench/out/, run with this venv) to every round:
before and after a change, measured side by side. Server CPU is utime +
stime of the server process (all its threads) from /proc, over the measured
window; no server starts child processes (checked). `--nice -10` runs
servers and load generator at a higher priority, all alike, so that latency
percentiles follow other work on the machine less.

The Node server is the public github.com/jonnyzzz/roomtone (server/index.ts,
server/media.ts), never part of this repository: put a checkout in --node-dir
(default ~/.cache/roomtone-node), e.g.

    git clone https://github.com/jonnyzzz/roomtone ~/.cache/roomtone-node
    git -C ~/.cache/roomtone-node checkout 0e4b376bf4a306e7be4d39f2ad59946e3f90cb9e

and this script runs `npm ci` and compiles its server (tsc) on first use.

    .venv/bin/python bench/ws_vs_node.py [--rounds 5] [--duration 20] [--participants 10]
        [--bitrate 1600] [--video 640x480] [--cut elements] [--baseline REF] [--nice N]
        [--label NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serverproc import ROOMTONE_SERVE, running_server  # noqa: E402

OUT = ROOT / "bench" / "out"
NODE_COMMIT = "0e4b376bf4a306e7be4d39f2ad59946e3f90cb9e"
NODE_ENTRY = Path("dist/server/index.js")
SERVE = "import sys; sys.path.insert(0, sys.argv.pop(1)); from roomtone.cli import main; main()"


def prepare_node(node_dir: Path) -> Path:
    """The compiled Node server's entry point; installs and builds it on first use."""
    if not (node_dir / "server" / "index.ts").exists():
        raise SystemExit(
            f"no Node Roomtone checkout in {node_dir}: run\n"
            f"  git clone https://github.com/jonnyzzz/roomtone {node_dir}\n"
            f"  git -C {node_dir} checkout {NODE_COMMIT}"
        )
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("node and npm are needed (apt-get install nodejs npm)")
    if not (node_dir / "node_modules").exists():
        npm = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(npm, cwd=node_dir, check=True)
    entry = node_dir / NODE_ENTRY
    if not entry.exists():
        tsc = ["npx", "--no-install", "tsc", "-p", "tsconfig.server.json"]
        subprocess.run(tsc, cwd=node_dir, check=True)
    return entry


def export_baseline(ref: str) -> Path:
    """`roomtone/` as of git `ref`, exported under bench/out/ (once per commit)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = OUT / f"baseline-{commit[:12]}"
    if not (target / "roomtone" / "cli.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit, "roomtone"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def contenders(args: argparse.Namespace, node_entry: Path) -> dict[str, tuple[dict, list]]:
    """name -> (environment, command) for `running_server`."""
    ours = {"MEDIA_TRANSPORT": "ws", "LOG_LEVEL": "warning"}
    found: dict[str, tuple[dict, list]] = {"roomtone": (ours, ROOMTONE_SERVE)}
    if args.baseline:
        source = export_baseline(args.baseline)
        found[f"roomtone@{args.baseline}"] = (
            ours,
            [sys.executable, "-c", SERVE, str(source), "serve"],
        )
    node = {"MEDIA_TRANSPORT": "ws", "ALLOW_INSECURE_HTTP": "true", "MAX_PARTICIPANTS": "100"}
    found["node"] = (node, ["node", str(node_entry)])
    return found


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            pass
    return found


def measure(which: str, setup: tuple[dict, list], round_no: int, args: argparse.Namespace) -> dict:
    report_path = OUT / f"ws-vs-node-{which.replace('@', '-')}-{round_no}.json"
    report_path.unlink(missing_ok=True)
    load = os.getloadavg()[0]  # other work on the machine: latency percentiles feel it first
    env, command = setup
    # nice execs its command: the server's pid stays the one measured.
    nice = ["nice", "-n", str(args.nice)] if args.nice else []
    with running_server(env, command=[*nice, *command]) as server:
        loadtest = [
            *nice, sys.executable, "-m", "roomtone", "loadtest",
            "--url", server.url, "--mode", "ws",
            "--participants", str(args.participants), "--duration", str(args.duration),
            "--bitrate", str(args.bitrate), "--video", args.video, "--cut", args.cut,
            "--server-pid", str(server.proc.pid), "--json", str(report_path),
        ]  # fmt: skip
        done = subprocess.run(loadtest, cwd=ROOT, capture_output=True, text=True, timeout=900)
        extra = children(server.proc.pid)
    if not report_path.exists():
        raise SystemExit(f"loadtest against {which} failed:\n{done.stderr}")
    if extra:
        raise SystemExit(f"{which} server has child processes {extra}: CPU would be undercounted")
    report = json.loads(report_path.read_text())
    latency = report["latency_ms"]
    row = {
        "server": which,
        "round": round_no,
        "cpu_percent": report["server_cpu_percent"],
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        "delivered": report["delivery_ratio"],
        "errors": report["errors"],
        "rss_max_mb": report["server_rss_max_mb"],
        "loadavg_1min": round(load, 2),
    }
    print(
        f"round {round_no} {which:>12}: CPU {row['cpu_percent']} %, p50 {row['p50_ms']} ms, "
        f"p99 {row['p99_ms']} ms, delivered {row['delivered']}, errors {row['errors']}, "
        f"load {row['loadavg_1min']}",
        file=sys.stderr,
    )
    return row


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def summarize(rows: list[dict], names: list[str], rounds: int) -> dict[str, Any]:
    """Per server: medians over rounds, and its CPU over Node's within each round."""
    summary: dict[str, Any] = {}
    for name in names:
        runs = [r for r in rows if r["server"] == name]
        ratios = []
        for n in range(rounds):
            mine = next(r for r in runs if r["round"] == n)["cpu_percent"]
            node = next(r for r in rows if r["server"] == "node" and r["round"] == n)
            if mine is not None and node["cpu_percent"]:
                ratios.append(round(mine / node["cpu_percent"], 3))
        keys = ("cpu_percent", "p50_ms", "p99_ms", "delivered", "rss_max_mb", "loadavg_1min")
        summary[name] = {key: median([r[key] for r in runs]) for key in keys}
        summary[name]["cpu_ratio_per_round"] = ratios
        summary[name]["cpu_ratio_median"] = median(ratios)
    return summary


def table(summary: dict[str, Any]) -> str:
    lines = [
        "| server | CPU % of one core | CPU / Node's (paired) | p50 ms | p99 ms | delivered |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['cpu_percent']} | {s['cpu_ratio_median']} | {s['p50_ms']} "
            f"| {s['p99_ms']} | {s['delivered']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds [5]")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--bitrate", type=int, default=1600, help="kbit/s per participant")
    parser.add_argument("--video", default="640x480", help="VP8 frame size [640x480]")
    parser.add_argument("--cut", default="elements", choices=("elements", "anywhere"))
    parser.add_argument(
        "--node-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "roomtone-node",
        help="checkout of github.com/jonnyzzz/roomtone [~/.cache/roomtone-node]",
    )
    parser.add_argument("--baseline", help="also run Roomtone as of this git commit")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run servers and load generator at this niceness (negative: root; shields "
        "latency figures from other work on the machine, the same for every server)",
    )
    parser.add_argument("--label", default="latest", help="names bench/out/ws-vs-node-LABEL.json")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds must be within 1-50")
    node_entry = prepare_node(args.node_dir.expanduser())
    OUT.mkdir(parents=True, exist_ok=True)
    servers = contenders(args, node_entry)
    names = list(servers)
    rows = []
    for n in range(args.rounds):
        order = names[n % len(names) :] + names[: n % len(names)]  # who goes first rotates
        rows += [measure(which, servers[which], n, args) for which in order]
    summary = summarize(rows, names, args.rounds)
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, **summary}
    path = OUT / f"ws-vs-node-{args.label}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(table(summary))
    for name in names:
        print(
            f"{name}: CPU / Node's per round {summary[name]['cpu_ratio_per_round']}",
            file=sys.stderr,
        )
    print(f"wrote {path.relative_to(ROOT)}; {shlex.join(sys.argv)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
