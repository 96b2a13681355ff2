"""A bench worker subprocess spoken to in JSON lines (bench/rtcworker.py, bench/sfuworker.py).

Participants run in worker processes so that the load generator is not one
Python loop competing with itself; every bench that spreads participants
over workers talks to them through this one class.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any, Protocol

from bench import comparison


class WorkerProcess:
    """One worker subprocess and its JSON-lines conversation."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, script: Path) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def ask(self, **command: Any) -> dict[str, Any]:
        """The worker's reply; raises RuntimeError when it reports an error or exited."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self.proc.stdin.drain()
        reply = json.loads(await self.proc.stdout.readline() or b'{"error": "worker exited"}')
        if "error" in reply:
            raise RuntimeError(f"worker: {reply['error']}")
        return dict(reply)

    def cpu_seconds(self) -> float:
        with contextlib.suppress(OSError):
            return comparison.process_cpu_seconds(self.proc.pid)
        return 0.0

    async def quit(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            await self.proc.stdin.drain()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class Handler(Protocol):
    async def handle(self, command: dict[str, Any]) -> dict[str, Any] | None: ...


async def serve(worker: Handler) -> None:
    """The worker side: one JSON command per stdin line, one reply per stdout line.

    A command that raises is answered with {"error": ...} (the traceback goes to
    stderr) so the bench can say what failed; a None reply ends the loop.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        try:
            reply = await worker.handle(json.loads(line))
        except Exception as exc:
            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        if reply is None:
            break
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
