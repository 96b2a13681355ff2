"""roomtone/sfu/rtp: headers, extensions, RTX, the VP8 descriptor and RTCP, checked against
aiortc's own implementation of each (a second implementation as the oracle)."""

from __future__ import annotations

import random

import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpSendParameters
from aiortc.rtp import (
    HeaderExtensionsMap,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
    unwrap_rtx,
    wrap_rtx,
)

from roomtone.sfu.rtp import header, rtcp, vp8
from roomtone.sfu.rtp.extensions import ABS_SEND_TIME, MID, RID, TRANSPORT_CC, ExtensionIds

URIS = {MID: 4, ABS_SEND_TIME: 2, TRANSPORT_CC: 3, RID: 10}


def extension_map() -> HeaderExtensionsMap:
    ext = HeaderExtensionsMap()
    ext.configure(
        RTCRtpSendParameters(
            headerExtensions=[RTCRtpHeaderExtensionParameters(id=i, uri=u) for u, i in URIS.items()]
        )
    )
    return ext


def aiortc_packet(**extensions: object) -> bytes:
    packet = RtpPacket(payload_type=96, sequence_number=65535, timestamp=123456, ssrc=0xCAFE)
    packet.marker = 1
    packet.payload = b"\x90\x80\x81\x23" + b"payload" * 20
    for name, value in extensions.items():
        setattr(packet.extensions, name, value)
    return packet.serialize(extension_map())


def test_layout_finds_the_payload_and_the_extensions() -> None:
    data = aiortc_packet(mid="1", abs_send_time=0x123456, transport_sequence_number=777)
    parsed = header.layout(data)
    assert parsed is not None
    payload, end, profile, start, stop = parsed
    assert data[payload:end] == RtpPacket.parse(data).payload
    values = header.extension_values(data, profile, start, stop)
    assert values[4] == b"1" and values[2] == bytes.fromhex("123456")
    pos = header.find_extension(data, profile, start, stop, 3)
    assert int.from_bytes(data[pos : pos + 2], "big") == 777
    assert header.find_extension(data, profile, start, stop, 9) == -1
    assert header.layout(b"\x00" * 20) is None  # not version 2
    assert header.layout(data[:14]) is None  # truncated extension block


def test_padding_is_not_payload() -> None:
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=2, ssrc=3)
    packet.payload = b"abc"
    packet.padding_size = 9
    data = packet.serialize()
    payload, end, *_ = header.layout(data)  # type: ignore[misc]
    assert data[payload:end] == b"abc"


def test_two_byte_extensions() -> None:
    block = bytes((5, 3)) + b"xyz" + bytes((0, 7, 1)) + b"q" + b"\x00\x00\x00"
    data = header.FIXED.pack(0x90, 96, 1, 2, 3) + header.EXTENSION_HEADER.pack(0x1000, 3) + block
    parsed = header.layout(data + b"P")
    assert parsed is not None and parsed[0] == len(data)
    _, _, profile, start, stop = parsed
    assert header.extension_values(data, profile, start, stop) == {5: b"xyz", 7: b"q"}
    assert header.find_extension(data, profile, start, stop, 7) == start + 8


def test_one_byte_block_is_what_aiortc_reads() -> None:
    block = header.one_byte_block([(4, b"12"), (10, b"f")])
    data = header.FIXED.pack(0x90, 96, 1, 2, 3) + block + b"payload"
    parsed = RtpPacket.parse(data, extension_map())
    assert parsed.extensions.mid == "12" and parsed.extensions.rtp_stream_id == "f"
    assert parsed.payload == b"payload"


def test_unwrap_rtx_matches_aiortc() -> None:
    original = RtpPacket.parse(aiortc_packet(mid="1"), extension_map())
    rtx = wrap_rtx(original, payload_type=97, sequence_number=5, ssrc=0xBEEF)
    data = rtx.serialize(extension_map())
    payload, end, *_ = header.layout(data)  # type: ignore[misc]
    mine = header.unwrap_rtx(data, payload, end, 96, 0xCAFE)
    theirs = unwrap_rtx(RtpPacket.parse(data, extension_map()), payload_type=96, ssrc=0xCAFE)
    parsed = RtpPacket.parse(mine, extension_map())
    assert (parsed.sequence_number, parsed.payload_type, parsed.ssrc, parsed.marker) == (
        theirs.sequence_number,
        theirs.payload_type,
        theirs.ssrc,
        theirs.marker,
    )
    assert parsed.payload == theirs.payload == original.payload
    assert parsed.extensions.mid == "1"


@pytest.mark.parametrize("tcc", [0, 3])
@pytest.mark.parametrize("abs_id", [0, 2])
@pytest.mark.parametrize("mid", ["", "17"])
def test_header_writer_is_what_aiortc_reads(tcc: int, abs_id: int, mid: str) -> None:
    pack, size = header.header_writer(
        0x1234ABCD, mid_id=4 if mid else 0, mid=mid, abs_id=abs_id, tcc_id=tcc
    )
    data = pack(0x80 | 96, 4321, 0xDEADBEEF, 0xABCDEF, 0x1F2F) + b"body"
    assert len(data) == size + 4
    parsed = RtpPacket.parse(data, extension_map())
    assert (parsed.marker, parsed.payload_type, parsed.sequence_number) == (1, 96, 4321)
    assert (parsed.timestamp, parsed.ssrc, parsed.payload) == (0xDEADBEEF, 0x1234ABCD, b"body")
    assert parsed.extensions.mid == (mid or None)
    assert parsed.extensions.abs_send_time == (0xABCDEF if abs_id else None)
    assert parsed.extensions.transport_sequence_number == (0x1F2F if tcc else None)


def test_extension_ids_from_a_map() -> None:
    ids = ExtensionIds.from_map(URIS)
    assert (ids.mid, ids.abs_send_time, ids.transport_cc, ids.rid, ids.repaired_rid) == (
        4,
        2,
        3,
        10,
        0,
    )


# --- VP8 descriptor -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_vp8_descriptor_matches_aiortc(seed: int) -> None:
    rng = random.Random(seed)
    desc = VpxPayloadDescriptor(
        partition_start=rng.randint(0, 1),
        partition_id=rng.choice([0, 0, 1]),
        picture_id=rng.choice([None, rng.randrange(1 << 15)]),
        tl0picidx=rng.choice([None, rng.randrange(256)]),
        tid=rng.choice([None, (rng.randrange(4), rng.randint(0, 1))]),
        keyidx=rng.choice([None, rng.randrange(32)]),
    )
    body = bytes([rng.choice([0x10, 0x11])]) + b"\x9d\x01\x2a" + bytes(8)
    data = b"RTPHEADER..." + bytes(desc) + body
    parsed = vp8.parse(data, 12, len(data))
    assert parsed is not None
    size, start, keyframe, picture_id, bits, tl0 = parsed
    assert size == len(bytes(desc))
    assert start == (desc.partition_start == 1 and desc.partition_id == 0)
    assert keyframe == (start and not body[0] & 1)
    assert picture_id == (-1 if desc.picture_id is None else desc.picture_id)
    assert bits == (0 if desc.picture_id is None else 15)
    assert tl0 == (-1 if desc.tl0picidx is None else desc.tl0picidx)
    new = vp8.rewrite(data, 12, parsed, 12345, 200)
    again, _ = VpxPayloadDescriptor.parse(new + body)
    assert again.picture_id == (None if desc.picture_id is None else 12345)
    assert again.tl0picidx == (None if desc.tl0picidx is None else 200)
    assert (again.tid, again.keyidx) == (desc.tid, desc.keyidx)


def test_vp8_seven_bit_picture_id_and_truncation() -> None:
    data = bytes((0x90, 0x80, 0x05, 0x10))
    assert vp8.parse(data, 0, len(data)) == (3, True, True, 5, 7, -1)
    assert vp8.rewrite(data, 0, vp8.parse(data, 0, 4), 0x1FF, -1) == bytes((0x90, 0x80, 0x7F))  # type: ignore[arg-type]
    assert vp8.parse(bytes((0x90, 0x80)), 0, 2) is None
    assert vp8.parse(b"", 0, 0) is None


# --- RTCP -------------------------------------------------------------------------------------


def test_parse_reads_what_aiortc_writes() -> None:
    rr = RtcpRrPacket(
        ssrc=1,
        reports=[
            RtcpReceiverInfo(
                ssrc=2,
                fraction_lost=25,
                packets_lost=-3,
                highest_sequence=70000,
                jitter=9,
                lsr=10,
                dlsr=11,
            )
        ],
    )
    sr = RtcpSrPacket(ssrc=7, sender_info=rtcp_sender_info())
    nack = RtcpRtpfbPacket(fmt=1, ssrc=3, media_ssrc=4)
    nack.lost = [100, 101, 117, 118, 300]
    pli = RtcpPsfbPacket(fmt=1, ssrc=5, media_ssrc=6)
    remb = RtcpPsfbPacket(fmt=15, ssrc=8, media_ssrc=0, fci=pack_remb_fci(1_234_567, [9, 10]))
    items = rtcp.parse(b"".join(bytes(p) for p in (sr, rr, nack, pli, remb)))
    assert items[0] == rtcp.SenderReport(7, 0x0102030405060708, 99, 5, 500, [])
    assert items[1] == rtcp.ReceiverReport(1, [rtcp.ReportBlock(2, 25, -3, 70000, 9, 10, 11)])
    assert items[2] == rtcp.Nack(
        3, 4, sorted(nack.lost, key=lambda s: (s - 100) % 65536)
    ) or sorted(
        items[2].lost  # type: ignore[union-attr]
    ) == sorted(nack.lost)
    assert items[3] == rtcp.Pli(5, 6)
    remb_item = items[4]
    assert isinstance(remb_item, rtcp.Remb) and remb_item.ssrcs == [9, 10]
    assert abs(remb_item.bitrate - 1_234_567) / 1_234_567 < 0.001


def rtcp_sender_info():  # type: ignore[no-untyped-def]
    from aiortc.rtp import RtcpSenderInfo

    return RtcpSenderInfo(
        ntp_timestamp=0x0102030405060708, rtp_timestamp=99, packet_count=5, octet_count=500
    )


def test_builders_are_what_aiortc_reads() -> None:
    block = rtcp.ReportBlock(2, 25, -3, 70000, 9, 10, 11)
    packets = RtcpPacket.parse(
        rtcp.sender_report(7, 1 << 40, 99, 5, 500)
        + rtcp.receiver_report(1, [block])
        + rtcp.sdes_cname(1, "roomtone")
        + rtcp.nack(3, 4, [65535, 0, 2, 40])
        + rtcp.pli(5, 6)
        + rtcp.remb(8, 2_500_000, [9])
    )
    sr, rr, sdes, nack, pli, remb = packets
    assert (sr.ssrc, sr.sender_info.ntp_timestamp, sr.sender_info.rtp_timestamp) == (7, 1 << 40, 99)
    assert rr.reports[0].packets_lost == -3 and rr.reports[0].highest_sequence == 70000
    assert sdes.chunks[0].items == [(1, b"roomtone")]
    assert sorted(nack.lost) == [0, 2, 40, 65535] and nack.media_ssrc == 4
    assert (pli.fmt, pli.media_ssrc) == (1, 6)
    assert remb.fmt == 15 and rtcp.parse(rtcp.remb(8, 2_500_000, [9]))[0].bitrate == pytest.approx(
        2_500_000, rel=1e-4
    )  # type: ignore[union-attr]
    fir = rtcp.parse(rtcp.fir(1, 0xABC, 3))
    assert fir == [rtcp.Fir(1, [0xABC])]


def test_many_report_blocks_split_into_several_rrs() -> None:
    blocks = [rtcp.ReportBlock(i, 0, 0, i, 0, 0, 0) for i in range(40)]
    items = rtcp.parse(rtcp.receiver_report(1, blocks))
    assert [len(i.reports) for i in items] == [31, 9]  # type: ignore[union-attr]


def test_malformed_rtcp_stops_parsing() -> None:
    good = rtcp.pli(1, 2)
    assert rtcp.parse(good + b"\x80\xce\x00\x09") == [rtcp.Pli(1, 2)]  # length beyond the data
    assert rtcp.parse(b"\x00\x01") == []
