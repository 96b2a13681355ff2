"""RTP packetization of forwarded frames and the port range."""

from __future__ import annotations

import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor

from roomtone.sfu.packetize import RTP_PAYLOAD_MAX, OpusPacker, OutFrame, Vp8Packer
from roomtone.sfu.ports import PortRange


def test_vp8_payloads_carry_descriptors_and_reassemble() -> None:
    packer = Vp8Packer()
    frame = bytes(range(256)) * 20  # 5120 bytes → 4 packets
    payloads, timestamp = packer.pack(OutFrame(frame, 12345))
    assert timestamp == 12345
    assert all(len(p) <= RTP_PAYLOAD_MAX for p in payloads) and len(payloads) == 4
    parsed = [VpxPayloadDescriptor.parse(p) for p in payloads]
    assert [d.partition_start for d, _ in parsed] == [1, 0, 0, 0]
    assert len({d.picture_id for d, _ in parsed}) == 1
    assert b"".join(data for _, data in parsed) == frame
    (second, _), _ = VpxPayloadDescriptor.parse(packer.pack(OutFrame(b"x", 0))[0][0]), None
    assert second.picture_id == (parsed[0][0].picture_id + 1) & 0x7FFF
    with pytest.raises(RuntimeError):
        packer.encode(object())


def test_opus_is_one_payload_per_frame() -> None:
    assert OpusPacker().pack(OutFrame(b"opus", 960)) == ([b"opus"], 960)


def test_port_range_round_robin() -> None:
    ports = PortRange(40000, 40002)
    assert len(ports) == 3 and 40001 in ports and 40003 not in ports
    it = ports.ports()
    assert next(it) == 40000
    assert list(ports.ports()) == [40001, 40002, 40000]
    with pytest.raises(ValueError):
        PortRange(5, 4)
