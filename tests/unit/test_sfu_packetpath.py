"""The packet path without sockets: an InboundStream (one received layer) feeding
OutboundLines (subscriber m-lines), with hand-built VP8 and Opus packets."""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

from aiortc.rtp import RtpPacket

from roomtone.sfu.inbound import NACK_TRIES, InboundStream
from roomtone.sfu.negotiated import Negotiated
from roomtone.sfu.outbound import AUDIO_REPAIR_PACKETS, OutboundLine
from roomtone.sfu.rtp import rtcp


class FakeUplink:
    def __init__(self) -> None:
        self.nacks: list[list[int]] = []
        self.plis: list[int] = []

    def send_nack(self, stream: InboundStream, lost: list[int]) -> None:
        self.nacks.append(sorted(lost))

    def send_pli(self, stream: InboundStream) -> None:
        self.plis.append(stream.layer)


class FakeFeed:
    """Layers stand-in: streams by layer, keyframe requests recorded."""

    key = "publication"

    def __init__(self, *streams: InboundStream) -> None:
        self.streams = list(streams)
        self.requests: list[int] = []

    def forget(self, line: object) -> None:
        pass

    def request_keyframe(self, layer: int) -> None:
        self.requests.append(layer)


class FakeHost:
    ready = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self._tseq = 0

    def send_packet(self, packet: bytes, transport_seq: int, now: float) -> None:
        self.sent.append(packet)

    def transport_seq(self) -> int:
        self._tseq += 1
        return self._tseq

    def send_video(self, item: tuple[Any, ...], size: int) -> None:
        line, second, seq, timestamp, head, tail = item
        if second < 0:
            line.history.resend(line, seq, 0.0)
        else:
            line.emit(second, seq, timestamp, head, tail, 0.0)

    def line_attached(self, line: OutboundLine) -> None:
        pass


def vp8_packet(
    seq: int, ts: int, pid: int, *, start: bool = True, key: bool = False, marker: bool = True
) -> bytes:
    first = 0x90 if start else 0x80
    desc = bytes((first, 0x80)) + struct.pack("!H", 0x8000 | pid)
    body = (b"\x00" if key else b"\x01") + b"\x9d\x01\x2a" + bytes(20)
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, seq, ts, 0xAAAA) + desc + body


def feed(stream: InboundStream, data: bytes, now: float = 0.0) -> None:
    seq, ts = struct.unpack_from("!HI", data, 2)
    stream.receive(data, 12, len(data), seq, ts, now)


def video_line(
    host: FakeHost, *streams: InboundStream, rtx: bool = True
) -> tuple[OutboundLine, FakeFeed]:
    line = OutboundLine(host, "video", SimpleNamespace(mid="3"))  # type: ignore[arg-type]
    line.configure(
        Negotiated(
            0x5151,
            100,
            rtx_ssrc=0x5252 if rtx else None,
            rtx_pt=101 if rtx else None,
            mid="3",
            mid_id=1,
            abs_id=2,
        )
    )
    fake = FakeFeed(*streams)
    line.feed = fake  # type: ignore[assignment]
    return line, fake


def parsed(data: bytes) -> RtpPacket:
    return RtpPacket.parse(data)


def out_pid(packet: RtpPacket) -> int:
    return struct.unpack_from("!H", packet.payload, 2)[0] & 0x7FFF


# --- inbound ---------------------------------------------------------------------------------


def test_gaps_are_nacked_with_bounded_retries_across_the_wrap() -> None:
    uplink = FakeUplink()
    stream = InboundStream(uplink, "video", 0, None)
    stream.bind(0xAAAA)
    for seq in (65533, 65534, 1, 2):  # 65535 and 0 lost
        feed(stream, vp8_packet(seq, 1000, 1))
    assert uplink.nacks == [[0, 65535]]
    for i in range(1, 20):
        stream.nack_due(i * 0.2)
    assert len(uplink.nacks) == NACK_TRIES  # then it gives up
    assert stream.missing == {}
    report = stream.report(5.0)
    assert report is not None and report.lost == 2 and report.highest == 65536 + 2


def test_a_recovered_packet_is_forwarded_and_not_nacked_again() -> None:
    uplink = FakeUplink()
    stream = InboundStream(uplink, "video", 0, None)
    stream.bind(0xAAAA)
    got: list[int] = []
    sink = SimpleNamespace(on_packet=lambda s, ext, *a: got.append(ext), detach=lambda: None)
    stream.attach(sink)  # type: ignore[arg-type]
    for seq in (10, 12):
        feed(stream, vp8_packet(seq, 1000, 1))
    feed(stream, vp8_packet(11, 1000, 1))  # the retransmission
    feed(stream, vp8_packet(11, 1000, 1))  # a duplicate: dropped
    assert got == [10, 12, 11] and stream.missing == {}
    stream.nack_due(1.0)
    assert len(uplink.nacks) == 1


def test_every_sink_gets_the_same_payload_bytes() -> None:
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.bind(1)
    tails: list[bytes] = []
    keys: list[bool] = []
    for _ in range(3):
        stream.attach(
            SimpleNamespace(  # type: ignore[arg-type]
                on_packet=lambda s, ext, ts, m, desc, head, tail, now: (
                    tails.append(tail),
                    keys.append(desc[2]),
                ),
                detach=lambda: None,
            )
        )
    feed(stream, vp8_packet(5, 0, 1, key=True))
    assert len(tails) == 3 and tails[0] is tails[1] is tails[2]  # sliced once, shared
    assert keys == [True] * 3 and stream.keyframe_at == 0.0


def test_sender_reports_map_timestamps_to_publisher_time() -> None:
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.on_sender_report(ntp=10 << 32, rtp=90_000, now=100.0)
    assert stream.sr_seconds(180_000) == 11.0
    assert stream.rtp_at_seconds(12.5) == 90_000 + 2.5 * 90_000
    assert stream.rtp_now(101.0) == 180_000


# --- outbound --------------------------------------------------------------------------------


def test_a_line_starts_and_switches_only_at_keyframes_with_continuous_numbering() -> None:
    host = FakeHost()
    low = InboundStream(FakeUplink(), "video", 0, "q")
    high = InboundStream(FakeUplink(), "video", 1, "f")
    low.bind(1)
    high.bind(2)
    line, fake = video_line(host, low, high)
    line.select(0)
    assert fake.requests == [0] and low.sinks == (line,)
    feed(low, vp8_packet(100, 9000, 50))  # a delta frame: not yet
    assert host.sent == []
    feed(low, vp8_packet(101, 12000, 51, key=True), now=1.0)
    feed(low, vp8_packet(102, 15000, 52), now=1.033)
    line.select(1)  # up: wait for f's keyframe, keep sending q meanwhile
    assert fake.requests == [0, 1] and set(high.sinks) == {line}
    feed(high, vp8_packet(7000, 500_000, 900), now=1.05)  # delta of f: ignored
    feed(low, vp8_packet(103, 18000, 53), now=1.066)
    feed(high, vp8_packet(7001, 503_000, 901, key=True, marker=False), now=1.1)
    feed(high, vp8_packet(7002, 503_000, 901, start=False), now=1.1)
    feed(low, vp8_packet(104, 21000, 54), now=1.1)  # q: no longer forwarded
    assert low.sinks == () and high.sinks == (line,)
    packets = [parsed(p) for p in host.sent]
    seqs = [p.sequence_number for p in packets]
    assert seqs == [(seqs[0] + i) % 65536 for i in range(5)]
    assert {p.ssrc for p in packets} == {0x5151} and {p.payload_type for p in packets} == {100}
    ts = [p.timestamp for p in packets]
    assert ts[1] - ts[0] == 3000 and ts[2] - ts[1] == 3000
    assert ts[3] - ts[2] == round(0.034 * 90000) and ts[4] == ts[3]  # elapsed time; same frame
    pids = [out_pid(p) for p in packets]
    assert pids == [51, 52, 53, 54, 54]  # continued across the switch
    assert packets[3].payload[4:] == vp8_packet(7001, 0, 0, key=True)[16:]  # payload as sent


def test_a_switch_continues_timestamps_by_the_publishers_clock() -> None:
    host = FakeHost()
    low, high = (
        InboundStream(FakeUplink(), "video", 0, "q"),
        InboundStream(FakeUplink(), "video", 1, "f"),
    )
    low.bind(1)
    high.bind(2)
    low.on_sender_report(ntp=100 << 32, rtp=1_000, now=0.0)  # different random bases…
    high.on_sender_report(ntp=100 << 32, rtp=777_000, now=0.0)  # …the same capture clock
    line, _ = video_line(host, low, high)
    line.select(0)
    feed(low, vp8_packet(1, 1_000 + 9000, 1, key=True), now=5.0)  # captured at 100.1 s
    line.select(1)
    feed(high, vp8_packet(1, 777_000 + 12000, 1, key=True), now=5.3)  # captured at 100.133 s
    first, second = (parsed(p) for p in host.sent)
    assert second.timestamp - first.timestamp == 3000  # one frame later, not 0.3 s


def test_pause_at_a_frame_boundary_and_resume_at_a_keyframe() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.bind(1)
    line, fake = video_line(host, stream)
    line.select(0)
    feed(stream, vp8_packet(1, 3000, 1, key=True, marker=False))
    line.select(None)
    assert line.paused and line.layer is None
    feed(stream, vp8_packet(2, 3000, 1, start=False))  # rest of the frame still goes out
    feed(stream, vp8_packet(3, 6000, 2))  # next frame: stopped
    assert len(host.sent) == 2 and stream.sinks == ()
    line.select(0)
    feed(stream, vp8_packet(4, 9000, 3))
    feed(stream, vp8_packet(5, 12000, 4, key=True), now=2.0)
    packets = [parsed(p) for p in host.sent]
    assert [p.sequence_number - packets[0].sequence_number for p in packets] == [0, 1, 2]
    assert [out_pid(p) for p in packets] == [1, 1, 2]
    assert fake.requests == [0, 0]


def test_nacks_are_answered_with_rtx_from_the_history() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.bind(1)
    line, _ = video_line(host, stream)
    line.select(0)
    feed(stream, vp8_packet(1, 3000, 1, key=True))
    feed(stream, vp8_packet(2, 6000, 2))
    sent = [parsed(p) for p in host.sent]
    line.retransmit([sent[1].sequence_number, 9999], now=1.0)
    assert len(host.sent) == 3
    rtx = parsed(host.sent[2])
    assert (rtx.ssrc, rtx.payload_type, rtx.timestamp) == (0x5252, 101, sent[1].timestamp)
    assert rtx.payload[:2] == struct.pack("!H", sent[1].sequence_number)
    assert rtx.payload[2:] == sent[1].payload
    plain, _ = video_line(FakeHost(), stream, rtx=False)
    plain_host = plain.host
    plain.select(0)
    feed(stream, vp8_packet(3, 9000, 3, key=True))
    first = parsed(plain_host.sent[0])  # type: ignore[attr-defined]
    plain.retransmit([first.sequence_number], now=1.0)
    again = parsed(plain_host.sent[1])  # type: ignore[attr-defined]
    assert (again.ssrc, again.sequence_number, again.payload) == (
        0x5151,
        first.sequence_number,
        first.payload,
    )


def test_video_repairs_are_paced_and_none_for_a_paused_line_or_an_old_layer() -> None:
    paced: list[tuple[Any, ...]] = []
    host = FakeHost()
    send = host.send_video

    def pace(item: tuple[Any, ...], size: int) -> None:
        paced.append(item)
        if item[1] >= 0:
            send(item, size)  # (media goes out: the history keeps it)

    host.send_video = pace  # type: ignore[method-assign]
    low = InboundStream(FakeUplink(), "video", 0, None)
    low.bind(1)
    high = InboundStream(FakeUplink(), "video", 1, None)
    high.bind(2)
    line, _ = video_line(host, low, high)
    line.select(0)
    feed(low, vp8_packet(1, 3000, 1, key=True))
    feed(low, vp8_packet(2, 6000, 2))
    before = [item[2] for item in paced]  # output sequence numbers of the low layer
    paced.clear()
    line.retransmit([before[1]], now=1.0)
    assert [(item[1], item[2]) for item in paced] == [(-1, before[1])]  # to the pacer
    paced.clear()
    line.select(1)
    feed(high, vp8_packet(10, 9000, 1, key=True))
    paced.clear()
    line.retransmit(before, now=1.0)
    assert paced == []  # from before the switch's keyframe: of no use any more
    line.select(None)
    feed(high, vp8_packet(11, 12000, 2))
    paced.clear()
    line.retransmit(before, now=1.0)
    assert paced == []  # paused: nothing is decoded before the resume's keyframe


def test_audio_goes_out_on_arrival_and_reports_map_to_the_publishers_clock() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "audio", 0, None)
    stream.bind(9)
    line = OutboundLine(host, "audio", SimpleNamespace(mid="2"))  # type: ignore[arg-type]
    line.configure(Negotiated(0x6161, 111))
    line.feed = FakeFeed(stream)  # type: ignore[assignment]
    line.select(0)
    opus = struct.pack("!BBHII", 0x80, 111, 7, 48_000, 9) + b"opus"
    feed(stream, opus, now=3.0)
    assert parsed(host.sent[0]).payload == b"opus"
    stream.on_sender_report(ntp=(50 << 32), rtp=48_000, now=3.0)
    report: Any = rtcp.parse(line.sender_report(now=4.0, wall=1_000.0) or b"")[0]
    assert report.ssrc == 0x6161 and report.packets == 1 and report.octets == 4
    assert (report.rtp - parsed(host.sent[0]).timestamp) % (1 << 32) == 48_000  # one second on


def test_nacked_audio_goes_out_again_as_it_was() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "audio", 0, None)
    stream.bind(9)
    line = OutboundLine(host, "audio", SimpleNamespace(mid="2"))  # type: ignore[arg-type]
    line.configure(Negotiated(0x6161, 111))
    line.feed = FakeFeed(stream)  # type: ignore[assignment]
    line.select(0)
    for seq in range(3):
        feed(stream, struct.pack("!BBHII", 0x80, 111, seq, seq * 960, 9) + bytes([seq]) * 20)
    first = parsed(host.sent[1])
    line.retransmit([first.sequence_number], 0.5)
    again = parsed(host.sent[-1])
    assert len(host.sent) == 4
    assert (again.ssrc, again.sequence_number, again.timestamp, again.payload) == (
        first.ssrc,
        first.sequence_number,
        first.timestamp,
        first.payload,
    )
    line.retransmit([first.sequence_number], 0.6)  # NACKed again (late, or a standing queue)
    assert len(host.sent) == 4  # once is enough
    for seq in range(3, 3 + AUDIO_REPAIR_PACKETS):
        feed(stream, struct.pack("!BBHII", 0x80, 111, seq, seq * 960, 9) + bytes(20))
    oldest = parsed(host.sent[0]).sequence_number
    sent = len(host.sent)
    line.retransmit([oldest], 1.0)
    assert len(host.sent) == sent  # too old to be played


def test_probe_padding_on_the_rtx_stream() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.bind(1)
    line, _ = video_line(host, stream)
    line.select(0)
    assert line.pad(900, now=1.0) > 0  # nothing sent yet: a padding-only RTX packet
    padding = RtpPacket.parse(host.sent[-1])
    assert (padding.ssrc, padding.payload_type, padding.payload) == (0x5252, 101, b"")
    assert padding.padding_size == 255
    feed(stream, vp8_packet(1, 3000, 1, key=True))
    sent = parsed(host.sent[-1])
    line.pad(900, now=2.0)  # now: an RTX copy of the newest packet
    copy = parsed(host.sent[-1])
    assert copy.ssrc == 0x5252 and copy.payload[:2] == struct.pack("!H", sent.sequence_number)
    assert copy.payload[2:] == sent.payload
    assert line.pad(100, now=2.0) > 0 and parsed(host.sent[-1]).payload == b""  # small: padding
    plain, _ = video_line(FakeHost(), stream, rtx=False)
    assert not plain.can_pad and plain.pad(900, now=3.0) == 0


def test_a_new_ssrc_for_a_layer_restarts_its_lines_at_a_keyframe() -> None:
    host = FakeHost()
    stream = InboundStream(FakeUplink(), "video", 0, None)
    stream.bind(1)
    line, fake = video_line(host, stream)
    line.select(0)
    feed(stream, vp8_packet(100, 3000, 7, key=True))
    stream.bind(2)  # e.g. the publisher's encoder restarted: new SSRC, new numbering
    assert line.pending is stream and line.stream is None and fake.requests[-1] == 0
    feed(stream, vp8_packet(40000, 900_000, 300))  # delta: waits
    feed(stream, vp8_packet(40001, 903_000, 301, key=True), now=1.0)
    first, second = (parsed(p) for p in host.sent)
    assert second.sequence_number == (first.sequence_number + 1) % 65536
    assert out_pid(second) == 8


def test_garbage_never_raises() -> None:
    import random

    from roomtone.sfu.uplink import Uplink

    rng = random.Random(5)
    host = SimpleNamespace(rtcp_ssrc=1, send_rtcp=lambda p: None, notify=lambda m: None)
    uplink = Uplink(host)  # type: ignore[arg-type]
    for _ in range(3000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80)))
        if data and rng.random() < 0.7:
            data = bytes((0x80 | (data[0] & 0x3F),)) + data[1:]
        uplink.on_rtp(data, 0.0)
        rtcp.parse(data)
