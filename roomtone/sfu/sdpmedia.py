"""What an SDP's m-sections say about RTP: payload types, extension ids, rids and SSRCs.

The packet path needs, per m-line, the numbers both sides agreed on; aiortc
keeps them in private attributes (and drops what it does not support:
rtp-stream-id, transport-wide congestion control), so they are read from the
SDP text instead: the client's offer and the server's answer for what the
server receives, the server's offer and the client's answer for what it sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from roomtone.sfu.sdp import split_sections

_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([^/\s]+)/(\d+)", re.M)
_APT = re.compile(r"^a=fmtp:(\d+) .*?\bapt=(\d+)", re.M)
_EXTMAP = re.compile(r"^a=extmap:(\d+)(?:/\S+)? (\S+)", re.M)
_RID = re.compile(r"^a=rid:(\S+) (send|recv)\b", re.M)
_SIMULCAST = re.compile(r"^a=simulcast:(send|recv) (\S+)", re.M)
_SSRC = re.compile(r"^a=ssrc:(\d+) ", re.M)
_FID = re.compile(r"^a=ssrc-group:FID (\d+) (\d+)", re.M)
_FEEDBACK = re.compile(r"^a=rtcp-fb:(\d+|\*) (\S+)(?: (\S+))?", re.M)
_MID = re.compile(r"^a=mid:(\S+)", re.M)
_DIRECTION = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", re.M)


@dataclass
class RtpSection:
    """One audio or video m-section, as far as RTP is concerned."""

    kind: str
    mid: str | None
    direction: str = "sendrecv"
    codecs: dict[int, str] = field(default_factory=dict)  # PT → "vp8", "opus", "rtx", …
    apt: dict[int, int] = field(default_factory=dict)  # RTX PT → media PT
    extensions: dict[str, int] = field(default_factory=dict)  # URI → id
    rids: list[str] = field(default_factory=list)  # in the order of a=simulcast, else of a=rid
    ssrcs: list[int] = field(default_factory=list)  # a=ssrc, first appearance order
    fid: dict[int, int] = field(default_factory=dict)  # media SSRC → RTX SSRC
    feedback: dict[int, set[str]] = field(default_factory=dict)  # PT → rtcp-fb types

    def payload_type(self, codec: str) -> int | None:
        """The first PT of `codec` ("vp8", "opus")."""
        return next((pt for pt, name in self.codecs.items() if name == codec), None)

    def rtx_for(self, media_pt: int) -> int | None:
        return next((rtx for rtx, apt in self.apt.items() if apt == media_pt), None)

    @property
    def media_ssrcs(self) -> list[int]:
        """SSRCs that carry media (not RTX): FID firsts, else every a=ssrc."""
        rtx = set(self.fid.values())
        return [ssrc for ssrc in self.ssrcs if ssrc not in rtx]


def parse_section(text: str) -> RtpSection | None:
    """One m-section's text (from its `m=` line); None unless audio or video."""
    fields = text.split("\n", 1)[0].strip()[2:].split()
    if not fields or fields[0] not in ("audio", "video"):
        return None
    mid = _MID.search(text)
    direction = _DIRECTION.findall(text)
    section = RtpSection(
        fields[0], mid[1] if mid else None, direction[-1] if direction else "sendrecv"
    )
    for match in _RTPMAP.finditer(text):
        section.codecs[int(match[1])] = match[2].lower()
    for match in _APT.finditer(text):
        section.apt[int(match[1])] = int(match[2])
    for match in _EXTMAP.finditer(text):
        section.extensions.setdefault(match[2], int(match[1]))
    rids = [match[1] for match in _RID.finditer(text)]
    simulcast = _SIMULCAST.search(text)
    if simulcast:
        listed = [r.lstrip("~") for alt in simulcast[2].split(";") for r in alt.split(",")[:1]]
        rids = [r for r in listed if r in rids] + [r for r in rids if r not in listed]
    section.rids = rids
    for match in _SSRC.finditer(text):
        ssrc = int(match[1])
        if ssrc not in section.ssrcs:
            section.ssrcs.append(ssrc)
    for match in _FID.finditer(text):
        section.fid[int(match[1])] = int(match[2])
    for match in _FEEDBACK.finditer(text):
        value = match[2] if match[3] is None else f"{match[2]} {match[3]}"
        pts = section.codecs if match[1] == "*" else [int(match[1])]
        for pt in pts:
            section.feedback.setdefault(pt, set()).add(value)
    return section


def rtp_sections(sdp: str) -> dict[str, RtpSection]:
    """The audio and video m-sections of `sdp` that have a mid, by mid."""
    found = {}
    for text in split_sections(sdp)[1]:
        section = parse_section(text)
        if section is not None and section.mid is not None:
            found[section.mid] = section
    return found


def agreed_extensions(local: str, remote: str) -> dict[str, int]:
    """Header extensions both descriptions list with the same id (one id space with BUNDLE)."""
    mine: dict[str, int] = {}
    for section in rtp_sections(local).values():
        for uri, ident in section.extensions.items():
            mine.setdefault(uri, ident)
    agreed: dict[str, int] = {}
    for section in rtp_sections(remote).values():
        for uri, ident in section.extensions.items():
            if mine.get(uri) == ident:
                agreed.setdefault(uri, ident)
    return agreed
