"""The RTP header extensions the SFU reads or writes, and one connection's ids for them.

With BUNDLE every m-line of a connection shares one extension id space
(sdp.Numbering keeps the server's offers in the client's numbering), so a
connection has one `ExtensionIds`: the ids both sides agreed on.
"""

from __future__ import annotations

from dataclasses import dataclass

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


@dataclass
class ExtensionIds:
    """Negotiated ids (0: not negotiated). One-byte ids are 1–14."""

    mid: int = 0
    rid: int = 0
    repaired_rid: int = 0
    abs_send_time: int = 0
    transport_cc: int = 0

    @classmethod
    def from_map(cls, uris: dict[str, int]) -> ExtensionIds:
        return cls(
            mid=uris.get(MID, 0),
            rid=uris.get(RID, 0),
            repaired_rid=uris.get(REPAIRED_RID, 0),
            abs_send_time=uris.get(ABS_SEND_TIME, 0),
            transport_cc=uris.get(TRANSPORT_CC, 0),
        )
