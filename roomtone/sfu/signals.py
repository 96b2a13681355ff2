"""Client signals to the server's peer `sfu`, parsed once into typed values.

docs/PROTOCOL.md, SFU section: the `data` of a `signal` to `sfu` is
`{"description": {"type": "offer" | "answer", "sdp": …}}` or
`{"candidate": {…} | null}`; an offer may carry `tracks`, the sources of
the client's own m-lines (which one is a shared screen). `parse_signal` is
the only place that checks it; anything else (including a candidate line
aiortc cannot read) is a BadSignal, which the transport answers with
BAD_SIGNAL. Malformed `tracks` entries are skipped: they only label media.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiortc import RTCIceCandidate

from roomtone.sfu import aiortc_adapter as adapter

SFU_PEER = "sfu"  # the server's reserved peer id

#: what a client m-line may carry besides a microphone or camera
SOURCES = frozenset({"screen"})


@dataclass(frozen=True, slots=True)
class Offer:
    sdp: str
    #: mid → source (`screen`) of the client's m-lines that are not camera or microphone
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Answer:
    sdp: str


@dataclass(frozen=True, slots=True)
class Candidate:
    candidate: RTCIceCandidate | None  # None: end of candidates


Signal = Offer | Answer | Candidate


class BadSignal(ValueError):
    """The `data` of a signal to `sfu` is not one the protocol allows."""


def parse_signal(data: object) -> Signal:
    if not isinstance(data, dict):
        raise BadSignal("data is not an object")
    description = data.get("description")
    if description is not None:
        if not isinstance(description, dict) or not isinstance(description.get("sdp"), str):
            raise BadSignal("description needs a type and an sdp string")
        if description.get("type") == "offer":
            return Offer(description["sdp"], parse_sources(data.get("tracks")))
        if description.get("type") == "answer":
            return Answer(description["sdp"])
        raise BadSignal("description type must be offer or answer")
    if "candidate" not in data:
        raise BadSignal("neither description nor candidate")
    candidate = data["candidate"]
    if candidate is None:
        return Candidate(None)
    if not isinstance(candidate, dict):
        raise BadSignal("candidate is not an object")
    try:
        return Candidate(adapter.parse_candidate(candidate))
    except ValueError as exc:
        raise BadSignal(str(exc)) from None


def parse_sources(tracks: object) -> Mapping[str, str]:
    """`tracks` of a client offer: `[{"mid": …, "source": "screen"}, …]` → mid → source."""
    sources: dict[str, str] = {}
    if not isinstance(tracks, list):
        return sources
    for item in tracks[:16]:
        if not isinstance(item, dict):
            continue
        mid, source = item.get("mid"), item.get("source")
        if isinstance(mid, str) and len(mid) <= 32 and source in SOURCES:
            sources[mid] = source
    return sources
