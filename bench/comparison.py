"""Figures of one measured window, and the table and plot of bench/janus_vs_sfu.py.

A window is two snapshots (before, after) of the same counters: the
server's CPU time (utime + stime of all its threads, /proc/PID/stat), the
whole machine's busy time (/proc/stat, to show what else ran meanwhile),
the loopback interface's byte counter (every packet of the run crosses it
twice: out of the sender, into the receiver, counted once), and what the
participants counted (frames and payload bytes per stream, RTP packets
received, transport bytes).
"""

from __future__ import annotations

import contextlib
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
NAMES = {"roomtone": "Roomtone SFU", "janus": "Janus VideoRoom"}
CLEAN_FPS = (28.0, 31.0)  # worst stream's least, mean's most fps of an undisturbed run (sent: 30)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime: all threads


def machine_busy_seconds() -> float:
    """CPU time used by everything on the machine (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def loopback_bytes() -> int:
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            return int(counters.split()[0])  # received bytes (= transmitted on lo)
    return 0


def udp_receive_drops() -> int:
    """Datagrams dropped because a receiving socket's buffer was full (this namespace only)."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()]
    header, values = [row for row in lines if row[0] == "Udp:"][:2]
    return int(values[header.index("RcvbufErrors")])


def socket_drops(pid: int) -> int:
    """Datagrams dropped at `pid`'s UDP sockets (their receive buffers were full)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    drops = 0
    for table in ("udp", "udp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    drops += int(fields[-1])
    return drops


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@dataclass
class Snapshot:
    at: float
    server_cpu: float
    machine_busy: float
    loopback: int
    udp_drops: int
    server_drops: int
    clients_cpu: float
    streams: dict[tuple[str, str, str], tuple[int, int]]  # (receiver, sender, kind) → frames, bytes
    traffic: dict[str, int]


@dataclass
class Result:
    server: str  # "roomtone" or "janus"
    participants: int
    round: int
    video_streams: int  # streams that delivered anything during the window
    server_cpu: float  # % of one core
    video_fps_mean: float
    video_fps_min: float
    audio_fps_mean: float
    video_kbps_mean: float  # delivered video payload per stream
    video_kbps_min: float
    rtp_packets_per_s: float  # RTP packets delivered to all subscribers (forwarded)
    us_per_packet: float  # server CPU time per forwarded RTP packet
    wire_mbps: float  # everything on loopback (publishers → server → subscribers)
    subscriber_wire_mbps: float  # mean SRTP+SRTCP bytes into one participant
    publisher_kbps: float  # mean RTP payload sent per publisher
    clients_cpu: float  # all participant processes, % of one core
    other_cpu: float  # the rest of the machine meanwhile, % of one core
    load1: float  # /proc/loadavg before the window
    udp_drops_per_s: float = 0.0  # datagrams lost to full receive buffers (server or clients)
    server_drops_per_s: float = 0.0  # of which at the server's sockets
    errors: int = 0
    batch: int = 0  # which invocation (--report merges several); pairs are (batch, N, round)
    ready: bool = True  # every stream flowed before the window (see the worst fps if not)

    @property
    def clean(self) -> bool:
        """Server and clients kept up: every stream at ~30 fps, no datagram dropped at a socket.

        On a shared machine a starved client or server loses packets and frames (its CPU
        then measures less work), or stalls and catches up inside the window (more than
        30 fps: work from before the window). Such runs are left out of the summary when
        clean ones of the same server and size exist.
        """
        steady = CLEAN_FPS[0] <= self.video_fps_min and self.video_fps_mean <= CLEAN_FPS[1]
        return self.ready and steady and self.udp_drops_per_s < 1


def window(server: str, n: int, round_: int, a: Snapshot, b: Snapshot, load1: float) -> Result:
    """The figures of the window between snapshots `a` and `b`."""
    seconds = b.at - a.at
    rates: dict[str, list[tuple[float, float]]] = {"video": [], "audio": []}
    for key, (frames, size) in b.streams.items():
        frames0, size0 = a.streams.get(key, (0, 0))
        rates[key[2]].append(((frames - frames0) / seconds, 8 * (size - size0) / seconds / 1000))
    expected = n * (n - 1)
    for kind in rates:  # streams that never arrived count as zero
        rates[kind] += [(0.0, 0.0)] * max(0, expected - len(rates[kind]))
    video, audio = rates["video"], rates["audio"]
    server_cpu = b.server_cpu - a.server_cpu
    clients_cpu = b.clients_cpu - a.clients_cpu
    packets = b.traffic["rtp_packets"] - a.traffic["rtp_packets"]
    other = (b.machine_busy - a.machine_busy) - server_cpu - clients_cpu
    return Result(
        server=server,
        participants=n,
        round=round_,
        video_streams=sum(1 for fps, _ in video if fps > 0),
        server_cpu=round(100 * server_cpu / seconds, 1),
        video_fps_mean=round(statistics.mean(f for f, _ in video), 1),
        video_fps_min=round(min(f for f, _ in video), 1),
        audio_fps_mean=round(statistics.mean(f for f, _ in audio), 1),
        video_kbps_mean=round(statistics.mean(k for _, k in video)),
        video_kbps_min=round(min(k for _, k in video)),
        rtp_packets_per_s=round(packets / seconds),
        us_per_packet=round(1e6 * server_cpu / packets, 1) if packets else 0.0,
        wire_mbps=round(8 * (b.loopback - a.loopback) / seconds / 1e6, 1),
        subscriber_wire_mbps=round(
            8 * (b.traffic["wire_in"] - a.traffic["wire_in"]) / seconds / 1e6 / n, 2
        ),
        publisher_kbps=round(
            8 * (b.traffic["payload_out"] - a.traffic["payload_out"]) / seconds / 1000 / n
        ),
        clients_cpu=round(100 * clients_cpu / seconds, 1),
        other_cpu=round(100 * other / seconds, 1),
        load1=load1,
        udp_drops_per_s=round((b.udp_drops - a.udp_drops) / seconds, 1),
        server_drops_per_s=round((b.server_drops - a.server_drops) / seconds, 1),
    )


def summary(results: list[Result]) -> list[dict[str, Any]]:
    """Per size: each server's median CPU and µs/packet over its clean runs, and the ratio.

    Without a clean run of a server and size, all its runs are used (`clean` says 0).
    """
    rows = []
    for n in sorted({r.participants for r in results}):
        row: dict[str, Any] = {"participants": n}
        for server in NAMES:
            runs = [r for r in results if r.participants == n and r.server == server]
            clean = [r for r in runs if r.clean]
            used = clean or runs
            if used:
                row[server] = {
                    "cpu": round(statistics.median(r.server_cpu for r in used), 1),
                    "us_per_packet": round(statistics.median(r.us_per_packet for r in used), 1),
                    "fps_min": min(r.video_fps_min for r in used),
                    "runs": len(runs),
                    "clean": len(clean),
                }
        if "roomtone" in row and "janus" in row and row["janus"]["cpu"]:
            row["ratio"] = round(row["roomtone"]["cpu"] / row["janus"]["cpu"], 2)
        pairs = paired_ratios([r for r in results if r.participants == n])
        if pairs:  # the same round of both servers: machine drift cancels
            row["ratio"] = round(statistics.median(pairs), 2)
            row["pairs"] = len(pairs)
        rows.append(row)
    return rows


def paired_ratios(results: list[Result]) -> list[float]:
    """Roomtone CPU / Janus CPU of each round where both servers ran clean."""
    by_round: dict[tuple[int, int], dict[str, Result]] = {}
    for r in results:
        if r.clean:
            by_round.setdefault((r.batch, r.round), {})[r.server] = r
    return [
        pair["roomtone"].server_cpu / pair["janus"].server_cpu
        for pair in by_round.values()
        if "roomtone" in pair and "janus" in pair and pair["janus"].server_cpu > 0
    ]


def table(results: list[Result]) -> str:
    lines = [
        "| server | N | round | clean | server CPU % | µs / forwarded RTP packet "
        "| forwarded pkt/s | video fps (mean / worst) | audio fps | video kbit/s per stream "
        "(mean / worst) | publisher kbit/s | loopback Mbit/s | UDP drops/s (server) "
        "| clients / other CPU % | load |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | --- "
        "| --- | ---: |",
    ]
    for r in sorted(results, key=lambda r: (r.participants, r.server, r.round)):
        lines.append(
            f"| {r.server} | {r.participants} | {r.round} | {'yes' if r.clean else 'no'} "
            f"| {r.server_cpu} "
            f"| {r.us_per_packet} | {r.rtp_packets_per_s} | {r.video_fps_mean} / "
            f"{r.video_fps_min} | {r.audio_fps_mean} | {r.video_kbps_mean} / {r.video_kbps_min} "
            f"| {r.publisher_kbps} | {r.wire_mbps} | {r.udp_drops_per_s:.0f} "
            f"({r.server_drops_per_s:.0f}) | {r.clients_cpu:.0f} / {r.other_cpu:.0f} "
            f"| {r.load1:.1f} |"
        )
    lines += [
        "",
        "| N | Roomtone CPU % | Janus CPU % | Roomtone / Janus (paired rounds) "
        "| Roomtone µs/pkt | Janus µs/pkt | clean runs (Roomtone, Janus) |",
        "| ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for row in summary(results):
        ours, theirs = row.get("roomtone", {}), row.get("janus", {})
        lines.append(
            f"| {row['participants']} | {ours.get('cpu', '–')} | {theirs.get('cpu', '–')} "
            f"| {row.get('ratio', '–')} ({row.get('pairs', 0)}) "
            f"| {ours.get('us_per_packet', '–')} "
            f"| {theirs.get('us_per_packet', '–')} "
            f"| {ours.get('clean', 0)}/{ours.get('runs', 0)}, "
            f"{theirs.get('clean', 0)}/{theirs.get('runs', 0)} |"
        )
    return "\n".join(lines)


def plot(results: list[Result], path: Path, before: list[Result] | None = None) -> Path:
    """The figures by room size; `before`: an earlier run whose Roomtone rows are drawn too."""
    from bench.plot import panels

    rows = summary(results)
    sizes = [row["participants"] for row in rows]
    earlier = {row["participants"]: row for row in summary(before or [])}

    def series(field: str) -> dict[str, list[float | None]]:
        out = {
            label: [row.get(server, {}).get(field) for row in rows]
            for server, label in NAMES.items()
        }
        if earlier:
            out["Roomtone SFU, before"] = [
                earlier.get(n, {}).get("roomtone", {}).get(field) for n in sizes
            ]
        return out

    ratio = {"ratio": [row.get("ratio") for row in rows]}
    if earlier:
        ratio["ratio, before"] = [earlier.get(n, {}).get("ratio") for n in sizes]
    return panels(
        path,
        sizes,
        "participants",
        [
            ("server CPU, % of one core", series("cpu")),
            ("server CPU µs per forwarded RTP packet", series("us_per_packet")),
            ("Roomtone CPU / Janus CPU", ratio),
        ],
        "Roomtone SFU vs Janus VideoRoom, 640x480 VP8 at 1 Mbit/s + Opus",
    )
