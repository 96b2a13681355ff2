"""SFU churn soak: many join/leave cycles with media, then the server's resources are
compared with their baseline (file descriptors, UDP sockets, threads from /proc, RSS).

Run: `.venv/bin/python bench/sfu_churn.py [CYCLES]` (default 200; about 1 s a cycle).
Each cycle is the leak test's: a guest joins, media flows both ways, the guest leaves
and is renegotiated away.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.test_sfu_leaks import WARMUP, one_cycle, settle, usage
from tests.serverproc import running_server
from tests.sfupeer import SfuPeer


async def soak(cycles: int) -> None:
    with running_server({"MEDIA_TRANSPORT": "sfu", "LOG_LEVEL": "warning"}) as server:
        pid = server.proc.pid
        host = await SfuPeer(server.ws_url, "Host").join()
        try:
            for i in range(WARMUP):
                await one_cycle(host, server.ws_url, i)
            await asyncio.sleep(1)
            before = usage(pid)
            started = time.monotonic()
            for i in range(cycles):
                await one_cycle(host, server.ws_url, WARMUP + i)
                if (i + 1) % 50 == 0:
                    now = usage(pid)
                    print(f"after {i + 1:4d} cycles: RSS {now.rss_kb / 1024:.1f} MiB", flush=True)
            elapsed = time.monotonic() - started
            after_counts = await settle(lambda: usage(pid).counts(), before.counts())
            after = usage(pid)
        finally:
            await host.close()
        traceback = "Traceback" in server.output()
    print(f"{cycles} cycles in {elapsed:.0f} s")
    print(f"(fds, udp sockets, threads): {before.counts()} -> {after_counts}")
    print(f"RSS: {before.rss_kb / 1024:.1f} MiB -> {after.rss_kb / 1024:.1f} MiB")
    print(f"tracebacks in the server log: {'yes' if traceback else 'none'}")


if __name__ == "__main__":
    asyncio.run(soak(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
