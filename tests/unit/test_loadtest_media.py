"""The load test's media: a valid looping WebM stream, chunked at the requested rate
(how receivers recognise it: test_loadtest_delivery.py), and pre-encoded RTP tracks."""

from __future__ import annotations

import time

import pytest

from roomtone.loadtest.media import MediaSpec, packet_loop
from roomtone.loadtest.rtcmedia import PreEncodedTrack, Schedule
from roomtone.loadtest.webm import (
    CLUSTER_HEADER,
    TIMECODE,
    ChunkSource,
    WebmError,
    elements,
    parse_recording,
    recording,
)

SPEC = MediaSpec()


def stream(loops: int) -> bytes:
    rec = recording(SPEC)
    return rec.init + b"".join(rec.loop(i) for i in range(loops))


def test_recording_is_live_style_webm():
    rec = recording(SPEC)
    assert rec.init.startswith(bytes.fromhex("1A45DFA3"))
    assert bytes.fromhex("1853806701FFFFFFFFFFFFFF") in rec.init  # unknown-size Segment
    assert len(rec.clusters) >= SPEC.seconds  # a cluster per keyframe second
    loop = rec.loop(0)
    assert loop.startswith(CLUSTER_HEADER)
    assert loop.count(CLUSTER_HEADER) == len(rec.clusters)


def test_looping_moves_cluster_timecodes_forward():
    rec = recording(SPEC)

    def timecodes(data: bytes) -> list[int]:
        found, pos = [], 0
        while (pos := data.find(CLUSTER_HEADER, pos)) >= 0:
            stamp = pos + len(CLUSTER_HEADER)
            assert data[stamp] == TIMECODE
            found.append(int.from_bytes(data[stamp + 2 : stamp + 10], "big"))
            pos = stamp
        return found

    codes = timecodes(rec.loop(0) + rec.loop(1) + rec.loop(2))
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert codes[len(rec.clusters)] == codes[0] + rec.loop_ms


@pytest.mark.parametrize("cut", ["anywhere", "elements"])
def test_chunks_concatenate_to_the_stream_at_the_requested_rate(cut):
    source = ChunkSource(recording(SPEC), 15000, cut)
    chunks = [source.next_chunk() for _ in range(120)]
    data = b"".join(chunks)
    assert stream(6).startswith(data)
    assert chunks[0].startswith(recording(SPEC).init)
    assert len(data) - len(recording(SPEC).init) == pytest.approx(120 * 15000, abs=20000)
    if cut == "anywhere":
        assert {len(c) for c in chunks[1:]} == {15000}
    else:
        assert len({len(c) for c in chunks}) > 10  # ends move to element boundaries
        ends = set()
        pos = 0
        for chunk in chunks:
            pos += len(chunk)
            ends.add(pos)
        rec = recording(SPEC)
        loop = len(rec.loop(0))
        marks = {len(rec.init) + k * loop + b for k in range(7) for b in rec.boundaries}
        assert ends <= marks | {len(rec.init)}


def test_parse_rejects_non_webm():
    with pytest.raises(WebmError):
        parse_recording(b"\x00" * 64, 1000)
    with pytest.raises(WebmError):
        elements(bytes.fromhex("1A45DFA3") + b"\x88" + b"\x00" * 3, 0, 8)


def test_packet_loop_has_keyframes_every_second():
    packets = packet_loop(SPEC)
    assert len(packets.video) == SPEC.fps * SPEC.seconds
    assert sum(f.keyframe for f in packets.video) == SPEC.seconds
    assert packets.video[0].keyframe
    assert len(packets.audio) >= SPEC.seconds * 50
    assert len({f.data for f in packets.video}) == len(packets.video)  # identifiable frames


def test_schedule_maps_frames_to_send_times():
    packets = packet_loop(SPEC)
    schedule = Schedule(packets, origin=100.0)
    assert schedule.index[packets.video[3].data] == 3
    assert schedule.next_pts[3] == packets.video[4].pts
    assert schedule.next_pts[-1] == pytest.approx(packets.seconds + packets.video[0].pts)
    pts = packets.video[10].pts
    assert schedule.sent_at(pts, 100.0 + pts + 0.05) == pytest.approx(100.0 + pts)
    later = 100.0 + 2 * packets.seconds + pts + 0.05
    assert schedule.sent_at(pts, later) == pytest.approx(100.0 + 2 * packets.seconds + pts)
    assert schedule.sent_at(pts, 99.0) is None


async def test_pre_encoded_track_paces_packets_with_rising_pts():
    packets = packet_loop(SPEC)
    schedule = Schedule(packets, origin=time.perf_counter() - packets.seconds + 0.05)
    track = PreEncodedTrack("video", schedule)
    started = time.perf_counter()
    out = [await track.recv() for _ in range(5)]
    elapsed = time.perf_counter() - started
    pts = [p.pts for p in out]
    assert pts == sorted(pts) and len(set(pts)) == 5
    assert out[0].time_base.denominator == 90000
    assert bytes(out[0]) in {f.data for f in packets.video}
    assert 0.05 <= elapsed < 1.0  # waits for due times, crosses into the next loop
    track.stop()
