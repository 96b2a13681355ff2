"""SFU benchmark: Roomtone's forwarding SFU against a MediaRelay-transcoding reference.

For each N (default 3, 5, 8) and each server, N aiortc participants (in
worker processes, two per process) publish pre-encoded 320x240@30 VP8 +
20 ms Opus and receive everyone else. Reported per run, over a measurement window after warm-up:

- server CPU: utime+stime of the server process from /proc/PID/stat, as % of one core;
- delivered frame rate: video/audio frames per second per received stream
  (mean and worst stream), counted from reassembled frames, no decoding;
- latency: the last participant decodes the first one's video, whose frames
  carry their clip index as a barcode; latency = decode time minus when that
  frame left the publisher's track. "Added" subtracts the same measurement
  over a direct aiortc-to-aiortc connection (no server).

Mode `simulcast`: the same SFU, every participant publishing three simulcast layers
(tests/simulcastpeer.py: q/h/f at 80x60, 160x120, 320x240, ~40/120/600 kbit/s), each
receiver getting the top one; no latency figure (its clips carry no barcode).

Usage: python bench/sfu.py [--sizes 3,5,8] [--seconds 10] [--modes sfu,simulcast,reference]
Results: bench/out/sfu.json, a Markdown table on stdout, docs/img/sfu-bench.png
(if matplotlib is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402

from bench.workerproc import WorkerProcess  # noqa: E402
from roomtone.sfu import aiortc_adapter as adapter  # noqa: E402
from roomtone.sfu.packetize import packer_for  # noqa: E402
from tests.serverproc import stop_process  # noqa: E402
from tests.sfupeer import ClipTrack, audio_clip, read_barcode, video_clip  # noqa: E402

PER_WORKER = 2  # participants per client process (see bench/sfuworker.py)
CLK_TCK = os.sysconf("SC_CLK_TCK")
COMMANDS = {
    "sfu": [sys.executable, "-m", "roomtone", "serve"],
    "simulcast": [sys.executable, "-m", "roomtone", "serve"],
    "reference": [sys.executable, str(ROOT / "bench" / "refserver.py")],
}


@dataclass
class Result:
    mode: str
    participants: int
    video_streams: int
    server_cpu: float  # % of one core
    client_cpu: float  # this process, % of one core
    video_fps_mean: float
    video_fps_min: float
    audio_fps_mean: float
    latency_ms_median: float | None
    latency_ms_p90: float | None
    other_cpu: float = 0.0  # % of one core used meanwhile by processes outside the benchmark
    added_latency_ms: float | None = None


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def cpu_seconds(pid: int | str) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


@contextlib.contextmanager
def server(mode: str) -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFU_", "ICE_", "MEDIA_"))}
    env.update(
        {"PORT": str(port), "HOST": "127.0.0.1", "MEDIA_TRANSPORT": "sfu", "LOG_LEVEL": "warning"}
    )
    proc = subprocess.Popen(
        COMMANDS[mode], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            time.sleep(0.1)
        yield proc, f"ws://127.0.0.1:{port}/ws"
    finally:
        stop_process(proc)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_case(mode: str, n: int, seconds: float, warmup: float) -> Result:
    # At most PER_WORKER participants per process; P0 and the last participant
    # (which decodes P0's video for the latency figure) share worker 0.
    placement = [0] + [1 + (i - 1) // PER_WORKER for i in range(1, n - 1)] + [0]
    workers = [
        await WorkerProcess.start(ROOT / "bench" / "sfuworker.py")
        for _ in range(max(placement) + 1)
    ]
    try:
        with server(mode) as (proc, url):
            simulcast = mode == "simulcast"
            joined = await workers[0].ask(cmd="join", url=url, names=["P0"], simulcast=simulcast)
            first = joined["ids"][0]
            for i in range(1, n):
                decode_of = first if i == n - 1 and not simulcast else None
                await workers[placement[i]].ask(
                    cmd="join", url=url, names=[f"P{i}"], decode_of=decode_of, simulcast=simulcast
                )

            async def report() -> tuple[dict[tuple[str, str, str], int], float, list[float]]:
                replies = await asyncio.gather(*(w.ask(cmd="report") for w in workers))
                counts = {(r, s, k): c for reply in replies for r, s, k, c in reply["counts"]}
                latencies = [x for reply in replies for x in reply["latencies"]]
                return counts, sum(reply["cpu"] for reply in replies), latencies

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts, _, _ = await report()
                video = [c for (_, _, k), c in counts.items() if k == "video"]
                if len(video) == n * (n - 1) and min(video) >= 10:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(warmup)
            before, me0, _ = await report()
            cpu0, all0, t0 = cpu_seconds(proc.pid), machine_busy_seconds(), time.time()
            await asyncio.gather(*(w.ask(cmd="measure", on=True) for w in workers))
            await asyncio.sleep(seconds)
            await asyncio.gather(*(w.ask(cmd="measure", on=False) for w in workers))
            after, me1, latencies = await report()
            cpu1, all1, t1 = cpu_seconds(proc.pid), machine_busy_seconds(), time.time()
    finally:
        await asyncio.gather(*(w.quit() for w in workers))
    elapsed = t1 - t0
    rates = {k: (after[k] - before.get(k, 0)) / elapsed for k in after}
    video = [v for (_, _, kind), v in rates.items() if kind == "video"]
    audio = [v for (_, _, kind), v in rates.items() if kind == "audio"]
    video += [0.0] * (n * (n - 1) - len(video))  # streams that never arrived
    audio += [0.0] * (n * (n - 1) - len(audio))
    return Result(
        mode=mode,
        participants=n,
        video_streams=len(video),
        server_cpu=round(100 * (cpu1 - cpu0) / elapsed, 1),
        client_cpu=round(100 * (me1 - me0) / elapsed, 1),
        other_cpu=round(100 * ((all1 - all0) - (cpu1 - cpu0) - (me1 - me0)) / elapsed, 1),
        video_fps_mean=round(statistics.mean(video), 1),
        video_fps_min=round(min(video), 1),
        audio_fps_mean=round(statistics.mean(audio), 1),
        latency_ms_median=round(1000 * statistics.median(latencies), 1) if latencies else None,
        latency_ms_p90=round(1000 * percentile(latencies, 0.9), 1) if latencies else None,
    )


async def direct_latency(seconds: float) -> list[float]:
    """The same latency measurement publisher → subscriber with no server in between."""
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    subscriber = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = ClipTrack(video_clip(barcode=True))
    transceiver = publisher.addTransceiver(track, direction="sendonly")
    adapter.install_packer(transceiver.sender, packer_for("video"))
    adapter.on_keyframe_request(transceiver.sender, track.request_keyframe)
    latencies: list[float] = []
    tasks = []

    async def consume(remote: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await remote.recv()
                plane = frame.planes[0]
                sent = track.sent_at.get(read_barcode(bytes(plane), plane.line_size))
                if sent is not None:
                    latencies.append(time.monotonic() - sent)

    subscriber.on("track", lambda remote: tasks.append(asyncio.ensure_future(consume(remote))))
    await publisher.setLocalDescription(await publisher.createOffer())
    await subscriber.setRemoteDescription(publisher.localDescription)
    await subscriber.setLocalDescription(await subscriber.createAnswer())
    await publisher.setRemoteDescription(subscriber.localDescription)
    await asyncio.sleep(2)
    latencies.clear()
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await publisher.close()
    await subscriber.close()
    return latencies


def table(results: list[Result], direct_ms: float) -> str:
    lines = [
        f"Direct aiortc→aiortc latency (no server), median: {direct_ms:.1f} ms",
        "",
        "| server | N | video streams | server CPU (% of one core) | video fps per stream "
        "(mean / worst) | audio fps | latency median / p90 (ms) | added latency (ms) "
        "| clients / other CPU (%) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        latency = (
            f"{r.latency_ms_median:.0f} / {r.latency_ms_p90:.0f}"
            if r.latency_ms_median is not None and r.latency_ms_p90 is not None
            else "n/a"
        )
        added = f"{r.added_latency_ms:.0f}" if r.added_latency_ms is not None else "n/a"
        lines.append(
            f"| {r.mode} | {r.participants} | {r.video_streams} | {r.server_cpu:.1f} | "
            f"{r.video_fps_mean:.1f} / {r.video_fps_min:.1f} | {r.audio_fps_mean:.1f} | "
            f"{latency} | {added} | {r.client_cpu:.0f} / {r.other_cpu:.0f} |"
        )
    return "\n".join(lines)


def plot(results: list[Result], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return False
    fig, (cpu_ax, fps_ax) = plt.subplots(1, 2, figsize=(10, 4))
    labels = {
        "sfu": "Roomtone SFU (forwarding)",
        "simulcast": "Roomtone SFU, 3 simulcast layers in",
        "reference": "MediaRelay (transcoding)",
    }
    for mode, style in (("sfu", "o-"), ("simulcast", "^-"), ("reference", "s--")):
        rows = [r for r in results if r.mode == mode]
        if not rows:
            continue
        label = labels[mode]
        sizes = [r.participants for r in rows]
        cpu_ax.plot(sizes, [r.server_cpu for r in rows], style, label=label)
        fps_ax.plot(sizes, [r.video_fps_mean for r in rows], style, label=label)
    cpu_ax.set(xlabel="participants", ylabel="server CPU, % of one core", title="Server CPU")
    fps_ax.set(
        xlabel="participants", ylabel="video fps per stream (sent: 30)", title="Delivered video"
    )
    fps_ax.set_ylim(0, 32)
    for ax in (cpu_ax, fps_ax):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="3,5,8")
    parser.add_argument("--modes", default="sfu,reference")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "sfu-bench.png")
    args = parser.parse_args()
    video_clip(barcode=True)  # encode (or load) the clips before anything is timed
    audio_clip()
    direct = await direct_latency(args.seconds)
    direct_ms = 1000 * statistics.median(direct)
    results = []
    for mode in args.modes.split(","):
        for n in (int(x) for x in args.sizes.split(",")):
            print(f"running {mode} with {n} participants…", file=sys.stderr)
            result = await run_case(mode, n, args.seconds, args.warmup)
            if result.latency_ms_median is not None:
                result.added_latency_ms = round(result.latency_ms_median - direct_ms, 1)
            results.append(result)
            print(f"  {result}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "direct_latency_ms_median": round(direct_ms, 1),
        "cpus": os.cpu_count(),
        "results": [asdict(r) for r in results],
    }
    (args.out / "sfu.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(results, direct_ms))
    if plot(results, args.plot):
        print(f"\nplot: {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
