"""The few SDP text operations the SFU needs, on plain strings.

- `media_sections`: kind, mid and direction of each m-line of a client offer.
- `media_ssrc`: the publisher's media SSRC of one m-line (PLIs are addressed to it).
- `announce`: SFU_ANNOUNCED_IP replaces the address of the server's host candidates.
- `Numbering`: aiortc builds every offer with its own payload type and
  header-extension numbers (VP8 97, Opus 96, mid=1 …), while a browser numbers
  them its own way (Chrome: Opus 111, VP8 96, mid=4 …). Once the browser's
  m-lines are answered, a server re-offer that renumbers them would switch the
  browser's sending payload type under aiortc's receiver (which registered the
  old one) and collide inside the BUNDLE group (same PT, different codec). So
  every server offer is renumbered to the client's numbering first.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([^/\s]+)/(\d+)(?:/(\d+))?", re.M)
_FMTP_APT = re.compile(r"^a=fmtp:(\d+) .*?\bapt=(\d+)", re.M)
_EXTMAP = re.compile(r"^a=extmap:(\d+)(?:/\S+)? (\S+)", re.M)
_DYNAMIC_PTS = range(96, 128)
_EXTENSION_IDS = range(1, 15)


@dataclass(frozen=True)
class MediaSection:
    kind: str
    mid: str | None
    direction: str
    port: int


def split_sections(sdp: str) -> tuple[str, list[str]]:
    """Session part and m-sections (each starting with its `m=` line), line endings kept."""
    parts = re.split(r"(?m)^(?=m=)", sdp)
    return parts[0], parts[1:]


def _section_info(section: str) -> MediaSection:
    first = section.split("\n", 1)[0].strip()
    fields = first[2:].split()
    mid = re.search(r"(?m)^a=mid:(\S+)", section)
    direction = "sendrecv"
    for line in section.splitlines():
        if line.startswith("a=") and line[2:].strip() in _DIRECTIONS:
            direction = line[2:].strip()
    port = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    return MediaSection(fields[0] if fields else "", mid[1] if mid else None, direction, port)


def media_sections(sdp: str) -> list[MediaSection]:
    return [_section_info(section) for section in split_sections(sdp)[1]]


def media_ssrc(sdp: str, mid: str) -> int | None:
    """The primary SSRC of m-line `mid`: first of an `FID` group, else the first `a=ssrc`."""
    for section in split_sections(sdp)[1]:
        if _section_info(section).mid != mid:
            continue
        group = re.search(r"(?m)^a=ssrc-group:FID (\d+)", section)
        if group:
            return int(group[1])
        ssrc = re.search(r"(?m)^a=ssrc:(\d+)", section)
        return int(ssrc[1]) if ssrc else None
    return None


def candidate_addresses(sdp: str) -> list[tuple[str, int, str]]:
    """(address, port, type) of every `a=candidate` line."""
    found = []
    for match in re.finditer(r"(?m)^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)", sdp):
        found.append((match[1], int(match[2]), match[3]))
    return found


def announce(sdp: str, address: str | None) -> str:
    """Replace the address of host candidates (and `c=` lines) with `address`."""
    if not address:
        return sdp
    family = "IP6" if ipaddress.ip_address(address).version == 6 else "IP4"
    sdp = re.sub(
        r"(?m)^(a=candidate:\S+ \d+ \S+ \d+ )\S+( \d+ typ host)",
        lambda m: f"{m[1]}{address}{m[2]}",
        sdp,
    )
    return re.sub(r"(?m)^c=IN IP[46] \S+", f"c=IN {family} {address}", sdp)


def _codec_keys(section: str) -> dict[int, str]:
    """PT → a numbering key: `vp8/90000`, `opus/48000/2`, or `rtx:<key of apt>`."""
    names: dict[int, str] = {}
    for match in _RTPMAP.finditer(section):
        key = f"{match[2].lower()}/{match[3]}" + (f"/{match[4]}" if match[4] else "")
        names[int(match[1])] = key
    apts = {int(m[1]): int(m[2]) for m in _FMTP_APT.finditer(section)}
    keys: dict[int, str] = {}
    for pt, key in names.items():
        if key.startswith("rtx/") and pt in apts and apts[pt] in names:
            keys[pt] = "rtx:" + names[apts[pt]]
        elif not key.startswith("rtx/"):
            keys[pt] = key
    return keys


@dataclass
class Numbering:
    """One client's payload-type and header-extension numbering, learnt from its offers."""

    payload_types: dict[str, int] = field(default_factory=dict)
    extension_ids: dict[str, int] = field(default_factory=dict)
    used_pts: set[int] = field(default_factory=set)
    used_ids: set[int] = field(default_factory=set)

    def learn(self, sdp: str) -> None:
        for section in split_sections(sdp)[1]:
            for pt, key in _codec_keys(section).items():
                self.payload_types.setdefault(key, pt)
            self.used_pts.update(int(m[1]) for m in _RTPMAP.finditer(section))
            for match in _EXTMAP.finditer(section):
                self.extension_ids.setdefault(match[2], int(match[1]))
                self.used_ids.add(int(match[1]))

    def _pick(self, key: str, table: dict[str, int], used: set[int], free: range) -> int:
        if key not in table:
            number = next((n for n in free if n not in used), None)
            if number is None:
                raise ValueError("no free number left in the client's numbering")
            table[key] = number
            used.add(number)
        return table[key]

    def align(self, sdp: str) -> str:
        """Renumber a server offer's payload types and extension ids to this client's."""
        head, sections = split_sections(sdp)
        return head + "".join(self._align_section(section) for section in sections)

    def _align_section(self, section: str) -> str:
        keys = _codec_keys(section)
        # Base codecs first so an unseen codec's rtx gets a number after it.
        ordered = sorted(keys.items(), key=lambda item: item[1].startswith("rtx:"))
        pts = {
            pt: self._pick(key, self.payload_types, self.used_pts, _DYNAMIC_PTS)
            for pt, key in ordered
        }
        ids = {
            int(m[1]): self._pick(m[2], self.extension_ids, self.used_ids, _EXTENSION_IDS)
            for m in _EXTMAP.finditer(section)
        }
        return renumber(section, pts, ids)


def renumber(sdp: str, pts: dict[int, int], ids: dict[int, int]) -> str:
    """Rewrite payload types (`pts`: old → new) and header-extension ids (`ids`)."""
    return "".join(_renumber_line(line, pts, ids) for line in sdp.splitlines(keepends=True))


def _renumber_line(line: str, pts: dict[int, int], ids: dict[int, int]) -> str:
    if line.startswith("m="):
        fields = line.rstrip("\r\n").split(" ")
        ending = line[len(line.rstrip("\r\n")) :]
        fmt = [str(pts.get(int(f), f)) if f.isdigit() else f for f in fields[3:]]
        return " ".join(fields[:3] + fmt) + ending
    match = re.match(r"^a=(rtpmap|fmtp|rtcp-fb):(\d+)(.*)$", line, re.S)
    if match:
        rest = match[3]
        if match[1] == "fmtp":
            rest = re.sub(r"\bapt=(\d+)", lambda m: f"apt={pts.get(int(m[1]), m[1])}", rest)
        return f"a={match[1]}:{pts.get(int(match[2]), match[2])}{rest}"
    match = re.match(r"^a=extmap:(\d+)(.*)$", line, re.S)
    if match:
        return f"a=extmap:{ids.get(int(match[1]), match[1])}{match[2]}"
    return line
