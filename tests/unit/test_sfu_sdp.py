"""SDP text helpers: m-line listing, SSRCs, announced address, numbering alignment."""

from __future__ import annotations

import re

from aiortc import RTCConfiguration, RTCPeerConnection

from roomtone.sfu import sdp

CHROME_OFFER = """v=0\r
o=- 1 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r
c=IN IP4 0.0.0.0\r
a=mid:0\r
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtpmap:111 opus/48000/2\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtpmap:63 red/48000/2\r
a=rtpmap:9 G722/8000\r
a=ssrc:1111 cname:x\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r
c=IN IP4 0.0.0.0\r
a=mid:1\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 nack pli\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=rtpmap:102 H264/90000\r
a=rtpmap:103 rtx/90000\r
a=fmtp:103 apt=102\r
a=ssrc-group:FID 2222 3333\r
a=ssrc:2222 cname:x\r
a=ssrc:3333 cname:x\r
"""


def test_media_sections_and_ssrc() -> None:
    sections = sdp.media_sections(CHROME_OFFER)
    assert [(s.kind, s.mid, s.direction) for s in sections] == [
        ("audio", "0", "sendonly"),
        ("video", "1", "sendonly"),
    ]
    assert sdp.media_ssrc(CHROME_OFFER, "0") == 1111
    assert sdp.media_ssrc(CHROME_OFFER, "1") == 2222  # not the RTX one
    assert sdp.media_ssrc(CHROME_OFFER, "9") is None


def test_announce_rewrites_host_candidates_only() -> None:
    text = (
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 192.0.2.2\r\n"
        "a=candidate:a 1 udp 2130706431 192.0.2.2 40000 typ host\r\n"
        "a=candidate:b 1 udp 2130706431 fd00::2 40001 typ host\r\n"
        "a=candidate:c 1 udp 1694498815 198.51.100.1 5000 typ srflx raddr 192.0.2.2 rport 40000\r\n"
    )
    out = sdp.announce(text, "203.0.113.7")
    assert sdp.candidate_addresses(out) == [
        ("203.0.113.7", 40000, "host"),
        ("203.0.113.7", 40001, "host"),
        ("198.51.100.1", 5000, "srflx"),
    ]
    assert "c=IN IP4 203.0.113.7\r\n" in out
    assert sdp.announce(text, None) == text
    assert "c=IN IP6 2001:db8::1" in sdp.announce(text, "2001:db8::1")


def _codecs(section: str) -> dict[str, int]:
    return {m[2].lower(): int(m[1]) for m in re.finditer(r"a=rtpmap:(\d+) ([^/]+)/", section)}


def _extmap(section: str) -> dict[str, int]:
    return {m[2]: int(m[1]) for m in re.finditer(r"a=extmap:(\d+) (\S+)", section)}


async def test_server_offer_takes_the_clients_numbering() -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # never a public STUN server
    for kind in ("audio", "video", "audio", "video"):
        pc.addTransceiver(kind, direction="sendonly")
    offer = (await pc.createOffer()).sdp
    await pc.close()
    numbering = sdp.Numbering()
    numbering.learn(CHROME_OFFER)
    aligned = numbering.align(offer)
    _, sections = sdp.split_sections(aligned)
    for section in sections:
        codecs = _codecs(section)
        if section.startswith("m=audio"):
            assert codecs["opus"] == 111
            assert _extmap(section)["urn:ietf:params:rtp-hdrext:ssrc-audio-level"] == 1
        else:
            assert codecs["vp8"] == 96
            assert "a=rtpmap:97 rtx/90000" in section and "a=fmtp:97 apt=96" in section
            assert codecs["h264"] == 102  # the client's first H264 number
        assert _extmap(section)["urn:ietf:params:rtp-hdrext:sdes:mid"] == 4
        fmt = [int(x) for x in section.split("\r\n", 1)[0].split()[3:]]
        assert sorted(fmt) == sorted(int(m) for m in re.findall(r"a=rtpmap:(\d+)", section))
    # One number means one codec across the whole BUNDLE group.
    owners: dict[int, set[str]] = {}
    for section in sections:
        for name, pt in _codecs(section).items():
            owners.setdefault(pt, set()).add(name)
    assert all(len(names) == 1 for names in owners.values()), owners


def test_codecs_the_client_never_offered_get_unused_numbers() -> None:
    numbering = sdp.Numbering()
    numbering.learn(CHROME_OFFER.split("m=video")[0])  # audio only: 111, 63, 9 in use
    video = (
        "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
        "a=rtpmap:97 VP8/90000\r\na=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=97\r\n"
    )
    first = numbering.align(video)
    assert numbering.align(video) == first  # stable across offers
    codecs = _codecs(first)
    assert codecs["vp8"] not in (111, 63, 9) and codecs["rtx"] not in (111, 63, 9)
    assert f"apt={codecs['vp8']}" in first
    ids = _extmap(first)
    assert ids["urn:ietf:params:rtp-hdrext:sdes:mid"] == 4
    assert ids["http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"] == 2
