"""No leaks in SFU mode: after many join/leave cycles the server is back where it
started. The subprocess test reads the server's file descriptors, UDP sockets,
threads and RSS from /proc (the server exposes nothing extra); asyncio tasks
cannot be seen from outside, so a second test runs the same application in
this process and counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from roomtone.app import create_app
from roomtone.config import load_server_config
from tests.serverproc import running_server
from tests.sfupeer import SfuPeer

pytestmark = pytest.mark.slow

CYCLES = 50
WARMUP = 3
RSS_GROWTH_LIMIT_KB = 30 * 1024  # measured: ~7 MB over 50 cycles


@dataclass(frozen=True)
class Usage:
    fds: int
    udp: int
    threads: int
    rss_kb: int

    def counts(self) -> tuple[int, int, int]:
        return self.fds, self.udp, self.threads


def _udp_inodes(pid: int) -> set[str]:
    inodes = set()
    for table in ("udp", "udp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                inodes.add(line.split()[9])
    return inodes


def usage(pid: int) -> Usage:
    fd_dir = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            targets.append(os.readlink(fd_dir / fd))
    udp = _udp_inodes(pid)
    sockets = [t[8:-1] for t in targets if t.startswith("socket:[")]
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return Usage(
        fds=len(targets),
        udp=sum(1 for inode in sockets if inode in udp),
        threads=len(os.listdir(f"/proc/{pid}/task")),
        rss_kb=rss,
    )


async def one_cycle(host: SfuPeer, url: str, index: int) -> None:
    """A guest joins, media flows both ways, the guest leaves and is renegotiated away."""
    guest = await SfuPeer(url, f"Guest {index}").join()
    try:
        await host.wait_for(lambda: host.received(guest.id, "video") >= 3, 20)
        await guest.wait_for(lambda: guest.received(host.id, "video") >= 3, 20)
    finally:
        await guest.close()
    await host.wait_for(
        lambda: (
            guest.id not in {t["peerId"] for t in host.current_tracks()}
            and any(m == {"type": "peer-left", "peerId": guest.id} for m in host.messages)
        ),
        20,
    )


async def settle(probe: object, baseline: tuple[int, ...], timeout: float = 15.0) -> tuple:
    """Closing is asynchronous: poll until the counts are back (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        current = probe()  # type: ignore[operator]
        if all(c <= b for c, b in zip(current, baseline, strict=True)):
            return current
        if time.monotonic() > deadline:
            return current
        await asyncio.sleep(0.2)


async def test_fifty_join_leave_cycles_leave_nothing_behind_in_the_server() -> None:
    with running_server({"MEDIA_TRANSPORT": "sfu", "LOG_LEVEL": "warning"}) as server:
        pid = server.proc.pid
        host = await SfuPeer(server.ws_url, "Host").join()
        try:
            for i in range(WARMUP):
                await one_cycle(host, server.ws_url, i)
            await asyncio.sleep(1)
            before = usage(pid).counts()
            rss_before = usage(pid).rss_kb
            for i in range(CYCLES):
                await one_cycle(host, server.ws_url, WARMUP + i)
            after = await settle(lambda: usage(pid).counts(), before)
            rss_after = usage(pid).rss_kb
        finally:
            await host.close()
        assert after == before, f"(fds, udp sockets, threads) {before} → {after}"
        assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB, (rss_before, rss_after)
        assert "Traceback" not in server.output(), server.output()[-3000:]


@contextlib.asynccontextmanager
async def in_process_server() -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = load_server_config({"MEDIA_TRANSPORT": "sfu", "HOST": "127.0.0.1", "PORT": str(port)})
    runner = web.AppRunner(create_app(config), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


async def test_join_leave_cycles_leave_no_asyncio_tasks_behind() -> None:
    async with in_process_server() as url:
        host = await SfuPeer(url, "Host").join()
        try:
            for i in range(WARMUP):
                await one_cycle(host, url, i)
            await asyncio.sleep(0.5)
            before = len(asyncio.all_tasks())
            for i in range(10):
                await one_cycle(host, url, WARMUP + i)
            after = await settle(lambda: (len(asyncio.all_tasks()),), (before,))
        finally:
            await host.close()
        assert after == (before,), f"asyncio tasks: {before} → {after[0]}"
