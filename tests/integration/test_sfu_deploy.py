"""Deployment settings of SFU mode against a real server: SFU_PORT_RANGE (and what a
full range does), SFU_ANNOUNCED_IP, and ICE_SERVERS reaching the server's own
connections. Only loopback and this machine's own addresses are ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from aioice import stun

from roomtone.sfu.sdp import candidate_addresses
from tests.serverproc import running_server
from tests.sfupeer import SfuPeer, udp_port_free

pytestmark = pytest.mark.slow

PORTS_FULL = "No media ports are free; try again later."


def free_range(size: int, start: int) -> tuple[int, int]:
    for base in range(start, 60000, 101):
        if all(udp_port_free(port) for port in range(base, base + size)):
            return base, base + size - 1
    raise RuntimeError("no free UDP port range")


def host_candidates(sdp: str) -> list[tuple[str, int]]:
    return [(address, port) for address, port, kind in candidate_addresses(sdp) if kind == "host"]


async def test_host_candidates_stay_inside_the_port_range() -> None:
    low, high = free_range(20, 43000)
    with running_server({"MEDIA_TRANSPORT": "sfu", "SFU_PORT_RANGE": f"{low}-{high}"}) as server:
        alice = await SfuPeer(server.ws_url, "Alice").join()
        bob = await SfuPeer(server.ws_url, "Bob").join()
        try:
            for peer, other in ((alice, bob), (bob, alice)):
                await peer.wait_for(lambda p=peer, o=other: p.received(o.id, "video") >= 10)
                candidates = host_candidates(peer.answers[0])
                assert candidates and all(low <= port <= high for _, port in candidates)
        finally:
            await alice.close()
            await bob.close()


async def test_a_full_port_range_is_a_clear_error_not_a_crash() -> None:
    low, high = free_range(1, 47000)
    with running_server({"MEDIA_TRANSPORT": "sfu", "SFU_PORT_RANGE": f"{low}-{high}"}) as server:
        first = await SfuPeer(server.ws_url, "First").join()
        second = await SfuPeer(server.ws_url, "Second").join()
        try:
            await first.wait_for(lambda: len(first.answers) == 1)
            await second.wait_for(lambda: PORTS_FULL in second.errors)
            assert second.answers == []
            await first.close()
            # Closing frees the port: a newcomer gets media ports again.
            for _ in range(50):
                third = await SfuPeer(server.ws_url, "Third").join()
                with contextlib.suppress(TimeoutError):
                    await third.wait_for(lambda t=third: t.answers or t.errors, 5)
                if third.answers:
                    break
                await third.close()
                await asyncio.sleep(0.1)
            assert third.answers and third.errors == []
            assert {port for _, port in host_candidates(third.answers[0])} == {low}
            await third.close()
        finally:
            await first.close()
            await second.close()
        assert server.proc.poll() is None


async def test_announced_ip_replaces_the_host_address() -> None:
    env = {"MEDIA_TRANSPORT": "sfu", "SFU_ANNOUNCED_IP": "203.0.113.7"}
    with running_server(env) as server:
        # connect=False: never send anything to the (documentation-range) address.
        peer = await SfuPeer(server.ws_url, "Nat", connect=False).join()
        try:
            await peer.wait_for(lambda: peer.answers)
            answer = peer.answers[0]
            assert {address for address, _ in host_candidates(answer)} == {"203.0.113.7"}
            assert "c=IN IP4 203.0.113.7" in answer
        finally:
            await peer.close()


class FakeStun(asyncio.DatagramProtocol):
    """Answers STUN binding requests with a fixed public address."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.requests = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = stun.parse_message(data)
        self.requests += 1
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = ("198.51.100.9", 45678)
        self.transport.sendto(bytes(response), addr)  # type: ignore[attr-defined]


@pytest.fixture
async def fake_stun() -> Iterator[tuple[FakeStun, int]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(FakeStun, local_addr=("0.0.0.0", 0))
    yield protocol, transport.get_extra_info("sockname")[1]
    transport.close()


async def test_ice_servers_apply_to_the_server(fake_stun: tuple[FakeStun, int]) -> None:
    protocol, port = fake_stun
    env = {"MEDIA_TRANSPORT": "sfu", "ICE_SERVERS": f"stun:127.0.0.1:{port}"}
    with running_server(env) as server:
        peer = await SfuPeer(server.ws_url, "Stunned", connect=False).join()
        try:
            await peer.wait_for(lambda: peer.answers)
            assert protocol.requests >= 1
            found = candidate_addresses(peer.answers[0])  # repeated in every m-line
            assert {(a, p) for a, p, kind in found if kind == "srflx"} == {("198.51.100.9", 45678)}
        finally:
            await peer.close()
