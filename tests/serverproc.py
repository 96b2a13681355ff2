"""Start the real `roomtone serve` in a subprocess on a free loopback port.

Every integration and browser test talks to a real server over real sockets;
this module is the one place that knows how to start and stop one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr interleaved)."""
        return "".join(self.lines)

    def stop(self, timeout: float = 10.0) -> int:
        return stop_process(self.proc, timeout)


def stop_process(proc: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def collect_output(proc: subprocess.Popen[str], lines: list[str]) -> None:
    """Append the process's output lines to `lines` from a daemon thread."""

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()


ROOMTONE_SERVE = [sys.executable, "-m", "roomtone", "serve"]


def start_server(
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    command: list[str] | None = None,
) -> ServerProcess:
    """Start a server with `env` on top of a clean default environment; waits for /health.

    `command` replaces `roomtone serve` (e.g. tests/codecfree.py); `args` follow it.
    """
    port = free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTH_", "MEDIA_", "ICE_", "SFU_", "WS_", "TRUST_", "ALLOW_"))
    }
    full_env.update({"PORT": str(port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
    full_env.update(env or {})
    proc = subprocess.Popen(
        [*(command or ROOMTONE_SERVE), *(args or [])],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = ServerProcess(proc=proc, port=int(full_env["PORT"]))
    collect_output(proc, server.lines)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.output()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as response:
                if response.status == 200:
                    return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become healthy:\n{server.output()}")


@contextlib.contextmanager
def running_server(
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    command: list[str] | None = None,
) -> Iterator[ServerProcess]:
    server = start_server(env, args, command)
    try:
        yield server
    finally:
        server.stop()
