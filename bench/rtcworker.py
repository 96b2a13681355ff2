"""A bench/janus_vs_sfu.py worker process: hosts a few participants of either server.

One asyncio loop reads one datagram per socket per loop iteration, so one
Python process cannot receive 8 participants' streams without drops (see
bench/sfuworker.py); the benchmark spreads participants over several of
these. Commands arrive as JSON lines on stdin, replies go to stdout:

  {"cmd": "join", "url": WS, "names": [...]}            → {"ids": {name: id}}   (Roomtone)
  {"cmd": "publish", "url": HTTP, "names": [...]}       → {"feeds": {name: feed}} (Janus)
  {"cmd": "subscribe", "feeds": {feed: name}}            → {}                    (Janus)
  {"cmd": "report"} → {"streams": [[receiver, sender, kind, frames, bytes]…],
                       "traffic": {rtp_packets, wire_in, wire_out, payload_out}, "cpu": s,
                       "errors": [...]}
  {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import aiohttp
import aioice.turn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import realmedia  # noqa: E402
from bench.benchpeer import BenchPeer, JanusPeer, RoomtonePeer  # noqa: E402
from bench.workerproc import serve  # noqa: E402

# aioice sizes every socket's receive buffer to this (256 KiB, about 250 ms of a
# participant's 8 Mbit/s at N = 8). A load generator starved for longer by a busy
# machine would drop datagrams and make the servers retransmit; the benchmark
# measures forwarding, so the clients get what the kernel allows (net.core.rmem_max).
# The servers keep their own defaults.
CLIENT_SOCKET_BUFFER = 4 * 1024 * 1024


def cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


class Worker:
    def __init__(self) -> None:
        self.http: aiohttp.ClientSession | None = None
        self.peers: list[BenchPeer] = []
        self.clips = realmedia.clips()

    async def handle(self, command: dict[str, Any]) -> dict[str, Any] | None:
        if self.http is None:
            self.http = aiohttp.ClientSession()
        cmd = command["cmd"]
        if cmd == "join":
            ids = {}
            for name in command["names"]:
                peer = RoomtonePeer(self.http, command["url"], name, self.clips)
                self.peers.append(peer)
                await peer.join()
                ids[name] = peer.id
            return {"ids": ids}
        if cmd == "publish":
            feeds = {}
            for name in command["names"]:
                janus = JanusPeer(self.http, command["url"], name, self.clips)
                self.peers.append(janus)
                feeds[name] = await janus.publish()
            return {"feeds": feeds}
        if cmd == "subscribe":
            feeds = {int(feed): name for feed, name in command["feeds"].items()}
            await asyncio.gather(
                *(
                    peer.subscribe({f: n for f, n in feeds.items() if n != peer.name})
                    for peer in self.peers
                    if isinstance(peer, JanusPeer)
                )
            )
            return {}
        if cmd == "report":
            return await self.report()
        for peer in self.peers:
            await peer.close()
        await self.http.close()
        return None

    async def report(self) -> dict[str, Any]:
        streams = []
        traffic: dict[str, int] = {}
        errors: list[str] = []
        for peer in self.peers:
            for (sender, kind), frames in peer.received.frames.items():
                streams.append([peer.name, sender, kind, frames, peer.received.bytes[sender, kind]])
            for key, value in (await peer.traffic()).items():
                traffic[key] = traffic.get(key, 0) + value
            errors += getattr(peer, "errors", [])
        return {"streams": streams, "traffic": traffic, "cpu": cpu_seconds(), "errors": errors}


async def main() -> None:
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = CLIENT_SOCKET_BUFFER
    await serve(Worker())


if __name__ == "__main__":
    asyncio.run(main())
