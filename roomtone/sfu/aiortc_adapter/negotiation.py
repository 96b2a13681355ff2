"""Offers that keep negotiated RTP parameters, and trickled candidates.

Part of the aiortc adapter: see the package docstring.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp


async def create_offer(pc: RTCPeerConnection) -> RTCSessionDescription:
    """`pc.createOffer()` that leaves already negotiated transceivers' RTP parameters alone.

    aiortc 1.16: `createOffer` resets every transceiver's `_codecs` and
    `_headerExtensions` to aiortc's own payload types and extension ids. Until
    the answer re-derives them, a `__connect` task still waiting for DTLS from
    an earlier negotiation may start a sender or receiver with those reset
    values: wrong payload types, and an extension map that misparses the
    client's packets. The negotiated values are put back at once (createOffer
    does not yield in between); the offer's SDP is renumbered by sdp.Numbering.
    """
    saved = [
        (t, t._codecs, t._headerExtensions)
        for t in pc.getTransceivers()
        if t.currentDirection is not None
    ]
    offer = await pc.createOffer()
    for transceiver, codecs, extensions in saved:
        transceiver._codecs = codecs
        transceiver._headerExtensions = extensions
    return offer


def parse_candidate(data: dict[str, Any]) -> RTCIceCandidate | None:
    """A browser's `RTCIceCandidate.toJSON()` → aiortc candidate (None: end of candidates)."""
    text = data.get("candidate")
    if not text:
        return None
    if not isinstance(text, str):
        raise ValueError("candidate must be a string")
    try:  # aiortc 1.16 asserts on short lines and raises ValueError/IndexError on others
        candidate = candidate_from_sdp(text.removeprefix("candidate:"))
    except (AssertionError, ValueError, IndexError) as exc:
        raise ValueError(f"malformed ICE candidate: {exc}") from None
    mid, index = data.get("sdpMid"), data.get("sdpMLineIndex")
    candidate.sdpMid = mid if isinstance(mid, str) else None
    candidate.sdpMLineIndex = index if isinstance(index, int) else None
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        candidate.sdpMLineIndex = 0  # BUNDLE: every m-line shares one transport
    return candidate
