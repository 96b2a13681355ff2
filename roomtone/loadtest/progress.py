"""Progress while the load runs: a redrawn bar on a terminal, plain lines otherwise.

Logs of CI jobs and redirected output must not fill with carriage returns,
so the bar is drawn only when the stream is a TTY.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24
LINE_INTERVAL = 5.0  # seconds between plain lines when not on a terminal


class Progress:
    def __init__(self, label: str, total_seconds: float, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total_seconds, 0.001)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line = float("-inf")
        self._drawn = False

    def line(self, elapsed: float, participants: int, units: int, unit: str, extra: str) -> str:
        """The status text (without bar) for the current state."""
        return (
            f"{self.label}: {participants} participants, {elapsed:5.1f}/{self.total:.0f} s, "
            f"{units} {unit} delivered{extra}"
        )

    def update(
        self,
        elapsed: float,
        participants: int,
        units: int,
        unit: str,
        latency_ms: float | None,
        errors: int,
    ) -> None:
        extra = f", p50 {latency_ms:.0f} ms" if latency_ms is not None else ""
        if errors:
            extra += f", {errors} errors"
        text = self.line(elapsed, participants, units, unit, extra)
        if self.tty:
            done = min(1.0, elapsed / self.total)
            filled = int(done * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r\x1b[2K[{bar}] {done * 100:3.0f}% {text}")
            self._drawn = True
        else:
            now = time.monotonic()
            if now - self._last_line < LINE_INTERVAL:
                return
            self._last_line = now
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line that stays (a ramp step, a warning), printed above the bar."""
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        self._drawn = False
