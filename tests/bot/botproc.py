"""Start the real `roomtone bot` in a subprocess, against the fake Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from tests.serverproc import ROOT, collect_output, stop_process


@dataclass
class BotProcess:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_output(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"bot never printed {text!r}:\n{self.output()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        return stop_process(self.proc, timeout)


def start_bot(env: dict[str, str]) -> BotProcess:
    """Start the bot with `env` over an environment cleared of bot variables."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "BOT_", "PUBLIC_BASE_URL", "AUTH_"))
    }
    full_env.update({"PYTHONUNBUFFERED": "1", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "roomtone", "bot"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    bot = BotProcess(proc)
    collect_output(proc, bot.lines)
    return bot
