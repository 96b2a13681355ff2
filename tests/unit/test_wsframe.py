"""Prebuilt WebSocket frames, and the Outbox writing them straight to a socket's sink."""

from __future__ import annotations

import asyncio
import struct

import pytest

from roomtone.outbox import Outbox
from roomtone.wsframe import binary_frame, frame_header, frame_payload


def decode(frame: bytes) -> tuple[int, bytes]:
    """(first byte, payload) per RFC 6455 section 5.2, for an unmasked frame."""
    first, second = frame[0], frame[1]
    assert not second & 0x80, "server frames are unmasked"
    length, offset = second & 0x7F, 2
    if length == 126:
        (length,), offset = struct.unpack("!H", frame[2:4]), 4
    elif length == 127:
        (length,), offset = struct.unpack("!Q", frame[2:10]), 10
    assert len(frame) == offset + length
    return first, frame[offset:]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_binary_frame_is_a_final_unmasked_binary_frame(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = binary_frame(b"\x01\x02ab", memoryview(body))
    first, payload = decode(frame)
    assert first == 0x82  # FIN, opcode 2, no RSV (uncompressed)
    assert payload == b"\x01\x02ab" + body
    assert bytes(frame_payload(frame)) == payload
    assert frame.startswith(frame_header(size + 4))


class Sink:
    """A FrameSink stand-in: records writes; `paused` until `resume()`."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False
        self._gate = asyncio.Event()
        self._gate.set()

    @property
    def paused(self) -> bool:
        return not self._gate.is_set()

    def pause(self) -> None:
        self._gate.clear()

    def resume(self) -> None:
        self._gate.set()

    def write(self, frame: bytes) -> None:
        self.written.append(frame)

    async def drain(self) -> None:
        await self._gate.wait()


class Socket:
    def __init__(self) -> None:
        self.sent: list[str | bytes] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self, code: int, reason: bytes) -> None:
        pass


def outbox_with(sink: Sink | None) -> tuple[Outbox, Socket]:
    socket = Socket()
    outbox = Outbox(socket.send_text, socket.send_bytes, socket.close)
    outbox.attach(sink)  # type: ignore[arg-type]
    outbox.start()
    return outbox, socket


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_an_idle_outbox_writes_a_frame_at_once_and_queues_nothing() -> None:
    sink = Sink()
    outbox, _ = outbox_with(sink)
    frame = binary_frame(b"media")
    outbox.send_binary("pub", frame)
    assert sink.written[0] is frame  # synchronously, the very object: no copy, no task
    assert outbox.media_bytes() == 0
    await outbox.stop()


async def test_frames_queue_while_the_socket_is_backed_up_and_keep_their_order() -> None:
    sink = Sink()
    outbox, socket = outbox_with(sink)
    frames = [binary_frame(bytes([n])) for n in range(4)]
    outbox.send_binary("pub", frames[0])
    sink.pause()
    outbox.send_binary("pub", frames[1])
    outbox.send_text("control")
    outbox.send_binary("pub", frames[2])
    assert outbox.media_bytes("pub") == len(frames[1]) + len(frames[2])
    await settle()
    sink.resume()
    # Resumed, but the writer still holds frames[1]: a new frame must wait behind it.
    outbox.send_binary("pub", frames[3])
    await settle()
    assert sink.written == [frames[0], frames[1], frames[2], frames[3]]
    assert socket.sent == ["control"]
    assert outbox.media_bytes() == 0
    await outbox.stop()


async def test_nothing_is_written_to_a_closing_socket() -> None:
    sink = Sink()
    outbox, _ = outbox_with(sink)
    sink.closing = True
    outbox.send_binary("pub", binary_frame(b"late"))
    await settle()
    assert sink.written == []
    await outbox.stop()


async def test_without_a_sink_the_payload_goes_through_send_bytes() -> None:
    outbox, socket = outbox_with(None)
    outbox.send_binary("pub", binary_frame(b"x" * 300))
    await settle()
    assert socket.sent == [b"x" * 300]
    await outbox.stop()


async def test_frames_written_through_a_real_sink_reach_an_aiohttp_client() -> None:
    """FrameSink finds what it needs in the installed aiohttp, and clients read its frames."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from roomtone.wsframe import FrameSink

    sizes = [0, 125, 126, 65535, 65536, 300_000]
    attached: list[bool] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        sink = FrameSink.attach(ws)
        attached.append(sink is not None)
        if sink is not None:
            for size in sizes:
                if sink.paused:
                    await sink.drain()
                sink.write(binary_frame(bytes([size % 251]) * size))
        await ws.send_str("done")  # aiohttp's own frames interleave cleanly with ours
        await ws.receive()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect("/ws", max_msg_size=0)
        received = [await ws.receive() for _ in sizes]
        done = await ws.receive()
        await ws.close()
    assert attached == [True]
    assert [m.data for m in received] == [bytes([s % 251]) * s for s in sizes]
    assert done.data == "done"
