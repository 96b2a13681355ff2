"""SFU mode, a participant's network vanishes: its process is frozen (SIGSTOP), so it
stops reading, answering pings and sending RTCP without closing anything. The server
removes it within the heartbeat bound, renegotiates it away, and the others' media
never stops.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import pytest

from tests.serverproc import ROOT, running_server
from tests.sfupeer import SfuPeer

pytestmark = pytest.mark.slow
HEARTBEAT = 2


async def test_frozen_participant_removed_others_keep_media() -> None:
    env = {"MEDIA_TRANSPORT": "sfu", "WS_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    with running_server(env) as server:
        alice = await SfuPeer(server.ws_url, "Alice").join()
        bob = await SfuPeer(server.ws_url, "Bob").join()
        victim = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.sfuvictim",
            server.ws_url,
            "Victim",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert victim.stdout is not None
            line = await asyncio.wait_for(victim.stdout.readline(), 60)
            victim_id = line.decode().strip()
            assert victim_id, "the victim never received media"
            await alice.wait_for(lambda: alice.received(victim_id, "video") > 0, 20)
            victim.send_signal(signal.SIGSTOP)
            frozen_at = time.monotonic()
            await alice.wait_for(
                lambda: {"type": "peer-left", "peerId": victim_id} in alice.messages, 5 * HEARTBEAT
            )
            removed_after = time.monotonic() - frozen_at
            await alice.wait_for(
                lambda: victim_id not in {t["peerId"] for t in alice.current_tracks()}, 15
            )
            # the others keep receiving each other throughout and after
            before = alice.received(bob.id, "video"), bob.received(alice.id, "video")
            await asyncio.sleep(2)
            after = alice.received(bob.id, "video"), bob.received(alice.id, "video")
            assert after[0] - before[0] >= 20 and after[1] - before[1] >= 20, (before, after)
            print(f"frozen participant removed after {removed_after:.1f}s (heartbeat {HEARTBEAT}s)")
        finally:
            if victim.returncode is None:
                victim.kill()
                await victim.wait()
            await alice.close()
            await bob.close()
