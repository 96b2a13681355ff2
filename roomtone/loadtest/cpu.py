"""Server CPU and memory read from /proc/PID while the load runs.

The server is a separate process (maybe another implementation of the
protocol), so its own counters are the honest measure: utime + stime over
wall time is CPU as a percentage of one core, summed over all its threads.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Sample:
    at: float  # time.perf_counter()
    cpu_seconds: float
    rss_bytes: int


def read_sample(pid: int, proc: Path = Path("/proc")) -> Sample:
    """One reading of /proc/PID/stat; raises OSError if the process is gone."""
    text = (proc / str(pid) / "stat").read_text()
    # The command name is in parentheses and may contain spaces: split after it.
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15, rss 24.
    utime, stime, rss = int(fields[11]), int(fields[12]), int(fields[21])
    return Sample(time.perf_counter(), (utime + stime) / TICKS, rss * PAGE)


class CpuSampler:
    """Samples a process periodically; answers CPU % and RSS for any time window."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[Sample] = []
        self.gone = False

    def sample(self) -> None:
        if self.gone:
            return
        try:
            self.samples.append(read_sample(self.pid))
        except (OSError, ValueError, IndexError):
            self.gone = True

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def _span(self, start: float, end: float) -> list[Sample]:
        times = [s.at for s in self.samples]
        first = max(0, bisect.bisect_right(times, start) - 1)
        last = bisect.bisect_left(times, end)
        return self.samples[first : last + 1]

    def cpu_percent(self, start: float, end: float) -> float | None:
        """Mean CPU of the process over the window, in % of one core."""
        span = self._span(start, end)
        if len(span) < 2 or span[-1].at <= span[0].at:
            return None
        used = span[-1].cpu_seconds - span[0].cpu_seconds
        return 100.0 * used / (span[-1].at - span[0].at)

    def rss_mb(self, start: float, end: float) -> tuple[float, float] | None:
        """(mean, max) resident memory over the window, in MiB."""
        span = self._span(start, end)
        if not span:
            return None
        values = [s.rss_bytes / (1024 * 1024) for s in span]
        return sum(values) / len(values), max(values)


def check_pid(pid: int) -> str | None:
    """None if /proc/PID/stat is readable, else why not."""
    try:
        read_sample(pid)
    except FileNotFoundError:
        return f"no process {pid} (or no /proc: --server-pid needs Linux)"
    except OSError as exc:
        return f"cannot read /proc/{pid}/stat: {exc.strerror}"
    return None
