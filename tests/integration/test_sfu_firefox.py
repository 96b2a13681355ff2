"""SFU mode with peers that answer renegotiation offers the way Firefox does.

Firefox writes `a=setup:passive` on the m-sections it already had and
`a=setup:active` on newly added bundled ones (it ignores those itself, since
they ride the first section's transport). Before the DTLS-role guard
(aiortc_adapter/dtlsrole.py), aiortc applied the last one to the shared
transport and turned the server into a DTLS server: with the Firefox-like
peer joining a room that already has a publisher, the server's first
renegotiation offer crosses ICE, and both ends then waited as DTLS servers,
so no media flowed either way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from tests.serverproc import ServerProcess
from tests.sfupeer import SfuPeer, codec_free_sfu_server

pytestmark = pytest.mark.slow

_MID = re.compile(r"^a=mid:(\S+)", re.M)


def firefox_setup(answer: str, known_mids: set[str]) -> str:
    """`a=setup:active` on the m-sections whose mid is new in this answer, as Firefox writes it."""
    head, *sections = re.split(r"(?m)^(?=m=)", answer)
    out = [head]
    for section in sections:
        mid = _MID.search(section)
        if mid and mid.group(1) not in known_mids:
            section = section.replace("a=setup:passive", "a=setup:active")
        out.append(section)
    return "".join(out)


class FirefoxLikePeer(SfuPeer):
    """Answers server offers like Firefox ESR: new bundled sections say `a=setup:active`.

    Only the SDP sent to the server is changed: this peer's own transport keeps
    its role, as Firefox's does.
    """

    async def signal(self, data: dict) -> None:
        description = data.get("description")
        if description and description["type"] == "answer":
            description = {**description, "sdp": firefox_setup(description["sdp"], self.known)}
            data = {**data, "description": description}
            self.sent_answers.append(description["sdp"])
        await super().signal(data)
        if description:
            self.known |= set(_MID.findall(description["sdp"]))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known: set[str] = set()
        self.sent_answers: list[str] = []


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with codec_free_sfu_server() as server:
        yield server


def receives_all(receiver: SfuPeer, senders: list[SfuPeer], frames: int = 10) -> bool:
    return all(
        receiver.received(sender.id, kind) >= frames
        for sender in senders
        if sender is not receiver
        for kind in ("audio", "video")
    )


def test_firefox_setup_rewrites_only_new_sections() -> None:
    answer = (
        "v=0\r\nm=audio 9\r\na=mid:0\r\na=setup:passive\r\n"
        "m=video 9\r\na=mid:2\r\na=setup:passive\r\n"
    )
    out = firefox_setup(answer, {"0"})
    assert "a=mid:0\r\na=setup:passive" in out
    assert "a=mid:2\r\na=setup:active" in out


async def test_firefox_style_answers_keep_media_flowing(server: ServerProcess) -> None:
    """A publisher first, then a Firefox-like one (its first server offer comes at once),
    then a third: everyone gets everyone's media, and the answers really were Firefox-style."""
    peers: list[SfuPeer] = []
    try:
        alice = await SfuPeer(server.ws_url, "Alice").join()
        peers.append(alice)
        fox = await FirefoxLikePeer(server.ws_url, "Fox").join()
        peers.append(fox)
        await asyncio.gather(*(p.wait_for(lambda p=p: receives_all(p, peers), 20) for p in peers))
        carol = await FirefoxLikePeer(server.ws_url, "Carol").join()
        peers.append(carol)
        await asyncio.gather(*(p.wait_for(lambda p=p: receives_all(p, peers), 20) for p in peers))
        for peer in (fox, carol):
            assert any("a=setup:active" in sdp for sdp in peer.sent_answers), peer.name
            assert peer.errors == [] and peer.failures == []
    finally:
        await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
