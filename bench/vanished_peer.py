"""How long the server takes to remove a participant whose network vanished.

A raw socket joins, then never reads and never answers a ping (as if its
cable were pulled: no FIN, no close); a well-behaved watcher times the
`peer-left`. Run: `.venv/bin/python bench/vanished_peer.py [HEARTBEAT_SECONDS]`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rawws import RawWebSocket
from tests.serverproc import running_server
from tests.wsclient import ProtocolClient


async def measure(heartbeat: str) -> float:
    with running_server({"MEDIA_TRANSPORT": "ws", "WS_HEARTBEAT_SECONDS": heartbeat}) as server:
        watcher = await ProtocolClient.connect(server.ws_url)
        await watcher.join("Watcher")
        ghost = RawWebSocket("127.0.0.1", server.port)
        ghost.send_json({"type": "join", "name": "Ghost"})
        await watcher.expect("peer-joined")
        started = time.monotonic()
        await watcher.expect("peer-left", timeout=120)
        elapsed = time.monotonic() - started
        ghost.close()
        await watcher.close()
        return elapsed


if __name__ == "__main__":
    heartbeat = sys.argv[1] if len(sys.argv) > 1 else "20"
    seconds = asyncio.run(measure(heartbeat))
    print(f"heartbeat {heartbeat} s: vanished peer removed after {seconds:.1f} s")
