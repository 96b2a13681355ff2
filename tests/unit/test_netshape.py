"""tests/netshape.py without the kernel: which packets a Link's direction means, and the
tc and nft text built for them (tests/integration/test_netshape.py shapes real packets)."""

from __future__ import annotations

import pytest

from tests.netshape import Conditions, Direction, Endpoint, Link, nft_loss_rule, u32_filter

C_SOCKET = Endpoint("127.0.0.1", 40000, "udp")
SERVER_FOR_C = Endpoint("127.0.0.2", 41000, "udp")


def test_downlink_is_to_own_endpoints_and_from_far_ones() -> None:
    link = Link(own=(C_SOCKET,), far=(SERVER_FOR_C,))
    assert link.matches(Direction.DOWN) == [("dst", C_SOCKET), ("src", SERVER_FOR_C)]
    assert link.matches(Direction.UP) == [("src", C_SOCKET), ("dst", SERVER_FOR_C)]


def test_u32_filter_matches_address_protocol_and_port() -> None:
    args = u32_filter(0x10, "src", SERVER_FOR_C)
    text = " ".join(args)
    assert "prio 16 u32" in text
    assert "match ip src 127.0.0.2/32" in text
    assert "match ip protocol 17 0xff" in text
    assert "match ip sport 41000 0xffff" in text
    assert args[-2:] == ["flowid", "1:10"]


def test_u32_filter_for_a_whole_address() -> None:
    text = " ".join(u32_filter(0x11, "dst", Endpoint("127.0.0.3")))
    assert "match ip dst 127.0.0.3/32" in text
    assert "match ip protocol" not in text and "dport" not in text


def test_nft_loss_rule() -> None:
    rule = nft_loss_rule(16, "dst", C_SOCKET, 200)
    assert rule.startswith("ip daddr 127.0.0.1 meta l4proto udp th dport 40000 ")
    assert "numgen random mod 10000 < 200 counter drop" in rule
    assert rule.endswith('comment "path 16"')
    assert "l4proto { tcp, udp } th sport 5" in nft_loss_rule(1, "src", Endpoint("127.0.0.3", 5), 1)


def test_conditions_size_queue_and_burst_for_full_frames() -> None:
    slow = Conditions(rate_kbit=150, loss=0.02)
    assert slow.burst_bytes >= 2 * 1514 and slow.queue_bytes >= 4 * 1514
    assert slow.loss_per_10000 == 200
    assert Conditions(rate_kbit=8000, queue_ms=200).queue_bytes == 200_000


@pytest.mark.parametrize(
    "make",
    [
        lambda: Conditions(rate_kbit=0),
        lambda: Conditions(rate_kbit=100, loss=1.0),
        lambda: Endpoint("localhost"),
        lambda: Endpoint("127.0.0.1", 70000),
        lambda: Link(),
    ],
)
def test_bad_values_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()
