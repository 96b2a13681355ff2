"""Client signals to `sfu`: one parser turns `data` into typed values or a BadSignal."""

from __future__ import annotations

import pytest

from roomtone.sfu.signals import Answer, BadSignal, Candidate, Offer, parse_signal

HOST = "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host generation 0"


def test_descriptions_and_candidates() -> None:
    assert parse_signal({"description": {"type": "offer", "sdp": "v=0"}}) == Offer("v=0")
    assert parse_signal({"description": {"type": "answer", "sdp": ""}}) == Answer("")
    assert parse_signal({"candidate": None}) == Candidate(None)
    assert parse_signal({"candidate": {"candidate": ""}}) == Candidate(None)  # end of candidates
    parsed = parse_signal({"candidate": {"candidate": HOST, "sdpMid": "0"}})
    assert isinstance(parsed, Candidate) and parsed.candidate is not None
    assert (parsed.candidate.ip, parsed.candidate.port, parsed.candidate.sdpMid) == (
        "192.0.2.2",
        50000,
        "0",
    )


@pytest.mark.parametrize(
    "data",
    [
        "nope",
        None,
        {},
        {"description": "offer"},
        {"description": {"type": "pranswer", "sdp": ""}},
        {"description": {"type": "offer"}},
        {"description": {"type": "offer", "sdp": 5}},
        {"candidate": "candidate:1 1 udp 1 192.0.2.2 1 typ host"},
        {"candidate": {"candidate": "candidate:garbage"}},
        {"candidate": {"candidate": 5}},
    ],
)
def test_anything_else_is_a_bad_signal(data: object) -> None:
    with pytest.raises(BadSignal):
        parse_signal(data)


def test_an_offer_may_label_its_m_lines() -> None:
    data = {
        "description": {"type": "offer", "sdp": "v=0"},
        "tracks": [
            {"mid": "2", "kind": "video", "source": "screen"},
            {"mid": "0", "kind": "audio"},  # no source: microphone
            {"mid": 3, "source": "screen"},  # malformed entries are skipped
            {"mid": "4", "source": "hologram"},
            "junk",
        ],
    }
    parsed = parse_signal(data)
    assert isinstance(parsed, Offer) and dict(parsed.sources) == {"2": "screen"}
    assert dict(parse_signal({**data, "tracks": "nope"}).sources) == {}  # type: ignore[union-attr]
