"""A bench/sfu.py worker process: hosts some of the benchmark's participants.

One asyncio loop reads one datagram per socket per iteration, so a single
Python process cannot receive 8 participants' worth of streams without
dropping packets; the benchmark spreads participants over a few of these.
Commands arrive as JSON lines on stdin, replies go to stdout:

  {"cmd": "join", "url": U, "names": [...], "decode_of": ID|null, "simulcast": bool}
      → {"ids": [...]}   (simulcast: tests/simulcastpeer.py publishers, three layers)
  {"cmd": "measure", "on": true|false}                              → {}
  {"cmd": "report"} → {"counts": [[receiver, sender, kind, n]…], "cpu": s, "latencies": […]}
  {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workerproc import serve  # noqa: E402
from tests.sfupeer import SfuPeer, audio_clip, read_barcode, video_clip  # noqa: E402
from tests.simulcastpeer import SimulcastPeer  # noqa: E402


def cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


class Worker:
    def __init__(self) -> None:
        self.peers: list[SfuPeer] = []
        self.latencies: list[float] = []
        self.measuring = False
        self.clips = (audio_clip(), video_clip(barcode=True))

    def on_decoded(self, owner: str, frame: Any) -> None:
        if not self.measuring:
            return
        source = next((p for p in self.peers if p.id == owner), None)
        if source is None:
            return
        video = next(t for t in source.tracks if t.kind == "video")
        plane = frame.planes[0]
        sent = video.sent_at.get(read_barcode(bytes(plane), plane.line_size))
        if sent is not None:
            self.latencies.append(time.monotonic() - sent)

    async def handle(self, command: dict[str, Any]) -> dict[str, Any] | None:
        cmd = command["cmd"]
        if cmd == "join":
            ids = []
            for name in command["names"]:
                decode = {command["decode_of"]} if command.get("decode_of") else None
                kind = SimulcastPeer if command.get("simulcast") else SfuPeer
                peer = kind(
                    command["url"],
                    name,
                    clips=self.clips,
                    decode_video_of=decode,
                    on_decoded=self.on_decoded,
                )
                self.peers.append(await peer.join())
                ids.append(peer.id)
            return {"ids": ids}
        if cmd == "measure":
            self.measuring = bool(command["on"])
            return {}
        if cmd == "report":
            counts = [
                [peer.id, sender, kind, n]
                for peer in self.peers
                for (sender, kind), n in peer.inbox.frames.items()
            ]
            return {"counts": counts, "cpu": cpu_seconds(), "latencies": self.latencies}
        for peer in self.peers:
            await peer.close()
        return None


async def main() -> None:
    await serve(Worker())


if __name__ == "__main__":
    asyncio.run(main())
