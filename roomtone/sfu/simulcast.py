"""Simulcast and transport-wide congestion control in the server's SDP.

aiortc negotiates neither: its answers drop a client's `a=rid` /
`a=simulcast` lines (so a browser would send one layer) and the header
extensions it does not implement (rtp-stream-id, repaired-rtp-stream-id,
transport-wide-cc). The packet strategy forwards what aiortc cannot, so the
descriptions the server sends are completed here, as text, after aiortc wrote
them (aiortc never sees these lines; the packet path reads them back through
sdpmedia).

Layers: rids `q` (¼ resolution), `h` (½) and `f` (full) are layers 0, 1, 2
(docs/PROTOCOL.md); other rids rank after them in the client's order.

Opus in-band FEC: every m-line the server receives audio on says
`useinbandfec=1` (aiortc writes no Opus parameters). A browser's Opus adds
FEC only when the far end's description asks for it.

Audio NACK: the server's offers ask for NACK on the Opus of every m-line it
sends audio on. Audio is not retransmitted by default, so a subscriber on
a lossy link concealed about as much of everyone's audio as its link lost
(2 % at 2 % loss); with NACK its receiver asks for a lost packet again and
the server resends it from the line's history (outbound.py) in a round
trip, usually before its playout time. (FEC alone did not help there: a
browser's Opus takes its loss rate from its own transport's feedback, and
the publishers' uplinks to the server lose nothing.)
"""

from __future__ import annotations

import re

from roomtone.sfu.rtp.extensions import REPAIRED_RID, RID, TRANSPORT_CC
from roomtone.sfu.sdp import split_sections
from roomtone.sfu.sdpmedia import RtpSection, parse_section, rtp_sections

RID_ORDER = ("q", "h", "f")


def layer_order(rids: list[str]) -> list[str]:
    """The client's rids from the lowest layer to the highest."""
    known = [rid for rid in RID_ORDER if rid in rids]
    return known + [rid for rid in rids if rid not in known]


def _append(section: str, lines: list[str]) -> str:
    if not lines:
        return section
    ending = "\r\n" if "\r\n" in section else "\n"
    if not section.endswith(("\n",)):
        section += ending
    return section + "".join(line + ending for line in lines)


def _extmaps(section: RtpSection, wanted: list[tuple[str, int]]) -> list[str]:
    return [f"a=extmap:{ident} {uri}" for uri, ident in wanted if uri not in section.extensions]


def complete_answer(offer: str, answer: str, *, transport_cc: bool) -> str:
    """The server's answer, receiving every simulcast layer the client offers.

    For each m-line the client sends with rids: its rid and repaired-rid
    extensions, `a=rid:<rid> recv` for each and `a=simulcast:recv …`. With
    `transport_cc`: the transport-wide-cc extension and `transport-cc`
    feedback wherever the client offered them.
    """
    offered = rtp_sections(offer)
    head, texts = split_sections(answer)
    out = []
    for text in texts:
        mine = parse_section(text)
        theirs = offered.get(mine.mid) if mine is not None and mine.mid else None
        if mine is None or theirs is None or mine.direction not in ("recvonly", "sendrecv"):
            out.append(text)
            continue
        lines: list[str] = []
        if theirs.rids and RID in theirs.extensions:
            wanted = [(RID, theirs.extensions[RID])]
            if REPAIRED_RID in theirs.extensions:
                wanted.append((REPAIRED_RID, theirs.extensions[REPAIRED_RID]))
            lines += _extmaps(mine, wanted)
            lines += [f"a=rid:{rid} recv" for rid in theirs.rids]
            lines.append("a=simulcast:recv " + ";".join(theirs.rids))
        if transport_cc and TRANSPORT_CC in theirs.extensions:
            lines += _extmaps(mine, [(TRANSPORT_CC, theirs.extensions[TRANSPORT_CC])])
            lines += _feedback(mine, theirs)
        text, fec = _opus_fec(text, mine)
        out.append(_append(text, lines + fec))
    return head + "".join(out)


def _audio_nack(section: RtpSection) -> list[str]:
    """NACK feedback for the Opus of an m-line the server sends (see the module docstring)."""
    return [
        f"a=rtcp-fb:{pt} nack"
        for pt, codec in section.codecs.items()
        if codec == "opus" and "nack" not in section.feedback.get(pt, ())
    ]


def _opus_fec(text: str, section: RtpSection) -> tuple[str, list[str]]:
    """`useinbandfec=1` for this section's Opus: the section with an existing fmtp line
    extended, or the fmtp lines to append (see the module docstring)."""
    add = []
    for pt, codec in section.codecs.items():
        if codec != "opus":
            continue
        match = re.search(rf"^a=fmtp:{pt} ([^\r\n]*)", text, re.M)
        if match is None:
            add.append(f"a=fmtp:{pt} useinbandfec=1")
        elif "useinbandfec" not in match[1]:
            start, end = match.span(1)
            text = text[:start] + match[1] + ";useinbandfec=1" + text[end:]
    return text, add


def _feedback(mine: RtpSection, theirs: RtpSection | None) -> list[str]:
    lines = []
    for pt, codec in mine.codecs.items():
        if codec in ("rtx", "red", "ulpfec") or "transport-cc" in mine.feedback.get(pt, ()):
            continue
        if theirs is None or "transport-cc" in theirs.feedback.get(pt, ()):
            lines.append(f"a=rtcp-fb:{pt} transport-cc")
    return lines


def complete_offer(
    offer: str, receive: dict[str, list[str]], ids: dict[str, int], transport_cc: int = 0
) -> str:
    """A server offer that keeps receiving the client's simulcast layers.

    `receive`: mid → rids of the client's simulcast m-lines (the server
    re-offers them recvonly; without these lines the browser would fall back
    to one layer); `ids`: the client's extension ids (rid, repaired-rid).
    `transport_cc`: the id to ask for transport-wide feedback with (0: do not).
    """
    head, texts = split_sections(offer)
    out = []
    for text in texts:
        section = parse_section(text)
        if section is None or section.mid is None:
            out.append(text)
            continue
        lines: list[str] = []
        rids = receive.get(section.mid)
        if rids and RID in ids and section.direction in ("recvonly", "sendrecv"):
            wanted = [(uri, ids[uri]) for uri in (RID, REPAIRED_RID) if uri in ids]
            lines += _extmaps(section, wanted)
            lines += [f"a=rid:{rid} recv" for rid in rids]
            lines.append("a=simulcast:recv " + ";".join(rids))
        if transport_cc:
            lines += _extmaps(section, [(TRANSPORT_CC, transport_cc)]) + _feedback(section, None)
        if section.direction in ("recvonly", "sendrecv"):
            text, fec = _opus_fec(text, section)
            lines += fec
        if section.direction in ("sendonly", "sendrecv"):
            lines += _audio_nack(section)
        out.append(_append(text, lines))
    return head + "".join(out)
