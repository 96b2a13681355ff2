"""A lone SFU participant in its own process, for tests that freeze it (SIGSTOP): a frozen
process neither reads, nor answers pings, nor sends RTCP — a vanished network.

Run: python -m tests.sfuvictim WS_URL NAME; prints its participant id once media flows.
"""

from __future__ import annotations

import asyncio
import sys

from tests.sfupeer import SfuPeer


async def main(url: str, name: str) -> None:
    peer = await SfuPeer(url, name).join()
    await peer.wait_for(lambda: any(kind == "video" for _, kind in peer.inbox.frames), 30)
    print(peer.id, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
