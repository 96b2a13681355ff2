"""sdpmedia (what m-sections say about RTP) and simulcast (completing the server's SDP)."""

from __future__ import annotations

from roomtone.sfu import simulcast
from roomtone.sfu.rtp.extensions import ABS_SEND_TIME, MID, REPAIRED_RID, RID, TRANSPORT_CC
from roomtone.sfu.sdpmedia import agreed_extensions, rtp_sections

# A Chrome offer, trimmed: audio, then video with three rid encodings (no a=ssrc lines).
CHROME_OFFER = """v=0\r
o=- 1 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
a=mid:0\r
a=sendonly\r
a=extmap:1 urn:ietf:params:ietf:rtp-hdrext:ssrc-audio-level\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:111 transport-cc\r
a=ssrc:1001 cname:x\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
a=mid:1\r
a=sendonly\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 goog-remb\r
a=rtcp-fb:96 transport-cc\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=rid:f send\r
a=rid:q send\r
a=rid:h send\r
a=simulcast:send f;q;h\r
"""

# What aiortc answers to it: recvonly, its own extensions and feedback only.
AIORTC_ANSWER = """v=0\r
o=- 3 4 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
a=recvonly\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=mid:0\r
a=rtpmap:111 opus/48000/2\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
a=recvonly\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=mid:1\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
a=rtcp-fb:96 goog-remb\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
"""


def test_sections_of_a_simulcast_offer() -> None:
    sections = rtp_sections(CHROME_OFFER)
    video = sections["1"]
    assert (video.kind, video.direction) == ("video", "sendonly")
    assert video.codecs == {96: "vp8", 97: "rtx"} and video.apt == {97: 96}
    assert video.payload_type("vp8") == 96 and video.rtx_for(96) == 97
    assert video.rids == ["f", "q", "h"]  # the order of a=simulcast
    assert video.extensions[RID] == 10 and video.extensions[TRANSPORT_CC] == 3
    assert "transport-cc" in video.feedback[96] and "nack pli" in video.feedback[96]
    assert simulcast.layer_order(video.rids) == ["q", "h", "f"]
    assert sections["0"].media_ssrcs == [1001] and sections["0"].rids == []


def test_ssrcs_and_rtx_groups() -> None:
    sdp = CHROME_OFFER.replace(
        "a=rid:f send\r\n",
        "a=ssrc-group:FID 5 6\r\na=ssrc:5 cname:x\r\na=ssrc:6 cname:x\r\n",
    )
    video = rtp_sections(sdp)["1"]
    assert video.ssrcs == [5, 6] and video.fid == {5: 6} and video.media_ssrcs == [5]


def test_the_answer_receives_the_layers_in_the_clients_order() -> None:
    answer = simulcast.complete_answer(CHROME_OFFER, AIORTC_ANSWER, transport_cc=False)
    video = rtp_sections(answer)["1"]
    assert video.rids == ["f", "q", "h"]
    assert "a=simulcast:recv f;q;h" in answer and "a=rid:q recv" in answer
    assert video.extensions[RID] == 10 and video.extensions[REPAIRED_RID] == 11
    assert TRANSPORT_CC not in video.extensions  # not asked for
    assert rtp_sections(answer)["0"].rids == []  # audio untouched
    assert answer.count("a=simulcast") == 1


def test_the_answer_can_accept_transport_wide_feedback() -> None:
    answer = simulcast.complete_answer(CHROME_OFFER, AIORTC_ANSWER, transport_cc=True)
    sections = rtp_sections(answer)
    for mid in ("0", "1"):
        assert sections[mid].extensions[TRANSPORT_CC] == 3
    assert sections["1"].feedback[96] >= {"transport-cc", "goog-remb"}
    assert 97 not in sections["1"].feedback  # never on RTX
    agreed = agreed_extensions(answer, CHROME_OFFER)
    assert agreed[TRANSPORT_CC] == 3 and agreed[MID] == 4 and agreed[ABS_SEND_TIME] == 2


def test_server_offers_keep_receiving_simulcast() -> None:
    reoffer = AIORTC_ANSWER  # a server re-offer has the same recvonly sections
    ids = {RID: 10, REPAIRED_RID: 11}
    offer = simulcast.complete_offer(reoffer, {"1": ["f", "q", "h"]}, ids, transport_cc=5)
    sections = rtp_sections(offer)
    assert sections["1"].rids == ["f", "q", "h"] and sections["1"].extensions[RID] == 10
    assert sections["0"].extensions[TRANSPORT_CC] == 5
    plain = simulcast.complete_offer(reoffer, {}, ids)  # no simulcast, no transport-cc:
    assert plain == reoffer.replace(  # only Opus FEC asked for on the receiving audio line
        "a=rtpmap:111 opus/48000/2\r\n",
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n",
    )


def test_server_offers_ask_for_nack_on_the_audio_they_send() -> None:
    sending = AIORTC_ANSWER.replace("a=recvonly", "a=sendonly")
    offer = simulcast.complete_offer(sending, {}, {})
    assert "a=rtcp-fb:111 nack\r\n" in offer
    assert rtp_sections(offer)["0"].feedback[111] == {"nack"}
    assert "nack" not in rtp_sections(simulcast.complete_offer(AIORTC_ANSWER, {}, {}))[
        "0"
    ].feedback.get(111, set())
    assert simulcast.complete_offer(offer, {}, {}).count("a=rtcp-fb:111 nack") == 1


def test_the_server_asks_for_opus_fec_on_what_it_receives() -> None:
    answer = simulcast.complete_answer(CHROME_OFFER, AIORTC_ANSWER, transport_cc=False)
    assert "a=fmtp:111 useinbandfec=1\r\n" in answer
    with_fmtp = AIORTC_ANSWER.replace(
        "a=rtpmap:111 opus/48000/2\r\n", "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\n"
    )
    answer = simulcast.complete_answer(CHROME_OFFER, with_fmtp, transport_cc=False)
    assert "a=fmtp:111 minptime=10;useinbandfec=1\r\n" in answer
    assert answer.count("a=fmtp:111") == 1
    assert (
        simulcast.complete_answer(CHROME_OFFER, answer, transport_cc=False).count("useinbandfec")
        == 1
    )  # never twice


def test_agreed_extensions_need_the_same_id_on_both_sides() -> None:
    local = (
        "v=0\r\nm=video 9 X 96\r\na=mid:1\r\na=extmap:4 "
        + MID
        + "\r\na=extmap:2 "
        + ABS_SEND_TIME
        + "\r\n"
    )
    remote = (
        "v=0\r\nm=video 9 X 96\r\na=mid:1\r\na=extmap:4 "
        + MID
        + "\r\na=extmap:3 "
        + ABS_SEND_TIME
        + "\r\n"
    )
    assert agreed_extensions(local, remote) == {MID: 4}
