"""Where the SFU's CPU goes per forwarded packet: py-spy under the Janus comparison's load.

Starts the same run as bench/janus_vs_sfu.py (Roomtone only), attaches
`py-spy record --native --format raw` to the server for the measured window
and sorts every sampled stack into one bucket by its innermost recognisable
frame (see BUCKETS: a syscall leaf is kernel time, a libsrtp or OpenSSL
frame is SRTP, a Python frame of the packet path its part, …).
Samples in epoll_wait count as idle. The busy shares are then scaled to the
server's CPU µs per forwarded RTP packet, measured in the same window.

py-spy stops the process for each sample (needed for native stacks), which
slows the server: the shares are what matters, the profiled run's absolute
CPU is a little high. On a loaded machine a runnable thread waiting for a
core is sampled too; it waits wherever it was preempted, so the shares
still follow CPU use.

    .venv/bin/python bench/sfuprofile.py [--size 8] [--seconds 20] [--rate 100] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY_SPY = Path(sys.executable).parent / "py-spy"

# (bucket, substrings of a frame): the innermost frame matching any bucket decides, in this order.
# The packet path's parts: the wire (socket callbacks, batched sends: aiortc_adapter/), the
# inbound side (demux, sequence tracking, VP8 descriptor), the outbound side (rewrite, header,
# history), bandwidth (pacer, estimator, allocator), and what aiortc/aioice still run.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("kernel: UDP send (sendto, sendmsg)", ("sendto (libc", "sendmsg (libc", "sendmmsg (libc")),
    ("kernel: UDP receive (recvfrom)", ("recvfrom (libc", "recvmsg (libc")),
    ("idle: epoll_wait", ("epoll_wait", "select_epoll_poll", "EpollSelector.select")),
    (
        "SRTP: libsrtp, OpenSSL and their bindings",
        ("pylibsrtp", "srtp", "_cffi", "libcrypto", "evp_", "EVP_", "aes", "sha1", "hmac"),
    ),
    ("REMB estimate for publishers without TWCC (aiortc.rate)", ("aiortc/rate.py",)),
    ("wire: socket callbacks, batching (aiortc_adapter)", ("sfu/aiortc_adapter/",)),
    (
        "inbound: demux, sequence tracking, VP8 descriptor",
        ("sfu/uplink.py", "sfu/inbound.py", "sfu/remb.py", "rtp/vp8.py", "bandwidth/twcc.py"),
    ),
    ("outbound: rewrite, header, history", ("sfu/outbound.py", "sfu/history.py", "rtp/header.py")),
    ("bandwidth: pacer, estimator, allocator", ("sfu/downlink.py", "sfu/bandwidth/")),
    ("RTCP, timers, signalling (Roomtone)", ("roomtone/",)),
    ("ICE / DTLS (aioice, aiortc)", ("aioice/", "aiortc/")),
    ("asyncio event loop", ("asyncio/", "_asynciomodule", "selectors.py")),
]
OTHER = "other (interpreter, GC)"
IDLE = "idle: epoll_wait"


def bucket_of(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost first
        for name, needles in BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def breakdown(stacks: list[tuple[list[str], int]]) -> tuple[collections.Counter[str], int]:
    """Samples per bucket, and the number of busy (not idle) samples."""
    counts: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        counts[bucket_of(frames)] += count
    return counts, sum(c for name, c in counts.items() if name != IDLE)


def hottest(stacks: list[tuple[list[str], int]], limit: int = 15) -> list[tuple[str, int]]:
    """Python functions by samples spent in them or in native code they called directly."""
    counts: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        python = next((f for f in reversed(frames) if ".py:" in f), None)
        if python is not None and not any(n in frames[-1] for n in BUCKETS[2][1]):
            function, _, place = python.partition(" (")
            counts[f"{function} ({place.split(':')[0]})"] += count
    return counts.most_common(limit)


def summary(stacks: list[tuple[list[str], int]], us_per_packet: float, title: str) -> str:
    counts, busy = breakdown(stacks)
    lines = [
        f"### {title}",
        "",
        f"{busy} busy samples ({counts[IDLE]} idle in epoll_wait left out); "
        f"{us_per_packet} µs of server CPU per forwarded RTP packet.",
        "",
        "| where | share of busy samples | µs per forwarded packet |",
        "| --- | ---: | ---: |",
    ]
    for name, count in counts.most_common():
        if name != IDLE and busy:
            share = count / busy
            lines.append(f"| {name} | {100 * share:.1f} % | {share * us_per_packet:.1f} |")
    lines += ["", "| hottest Python functions (incl. native callees) | samples |", "| --- | ---: |"]
    lines += [f"| `{name}` | {count} |" for name, count in hottest(stacks)]
    return "\n".join(lines)


def record(out: Path, size: int, seconds: float, run_case: Any, rate: int = 100) -> str:
    """Run Roomtone with `size` participants under py-spy; write raw stacks and a summary."""
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"sfu-{size}.txt"
    result = asyncio.run(_profiled_run(raw, size, seconds, run_case, rate))
    title = f"Roomtone SFU, {size} participants (profiled run: {result.server_cpu} % CPU)"
    text = summary(read_raw(raw), result.us_per_packet, title)
    (out / f"sfu-{size}.md").write_text(text + "\n")
    print(text)
    return text


async def _profiled_run(raw: Path, size: int, seconds: float, run_case: Any, rate: int) -> Any:
    async def during(pid: int, window: float) -> None:
        spy = await asyncio.create_subprocess_exec(
            str(PY_SPY), "record", "--pid", str(pid), "--duration", str(round(window)),
            "--rate", str(rate), "--native", "--format", "raw", "--output", str(raw),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await spy.wait() != 0:
            raise RuntimeError("py-spy failed (installed? `pip install py-spy`; needs root)")

    print(f"profiling roomtone with {size} participants…", file=sys.stderr)
    return await run_case("roomtone", size, 0, seconds, 3.0, during)


def main() -> None:
    from bench.janus_vs_sfu import reexec_isolated, run_case

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "profile")
    parser.add_argument("--raw", type=Path, help="only summarise an existing raw py-spy file")
    parser.add_argument("--us-per-packet", type=float, default=0.0, help="with --raw")
    args = parser.parse_args()
    if args.raw:
        print(summary(read_raw(args.raw), args.us_per_packet, str(args.raw)))
        return
    reexec_isolated()
    if not PY_SPY.exists():
        sys.exit(f"{PY_SPY} is missing: .venv/bin/pip install py-spy")
    record(args.out, args.size, args.seconds, run_case, args.rate)


if __name__ == "__main__":
    main()
