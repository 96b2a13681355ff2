"""Server-to-client WebSocket binary frames, built once and written to each socket as they are.

The ws relay sends every piece of media to several subscribers. aiohttp's
`send_bytes` builds the frame on each call and writes a payload over 16 KiB
as two writes (header, then payload): two send() calls, and with TCP_NODELAY
two TCP segments, per subscriber. A frame from the server is unmasked and,
with compression off, the same bytes for every recipient; so the relay builds
it once, header included (`binary_frame`), and `FrameSink` writes that one
bytes object to each socket: one send() per subscriber, no copy, no task.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from aiohttp import web

FIN_BINARY = 0x82  # FIN bit + opcode 2 (binary), no RSV bits: uncompressed
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final binary frame with a `length`-byte payload."""
    if length < 126:
        return bytes((FIN_BINARY, length))
    if length < 1 << 16:
        return _LEN16.pack(FIN_BINARY, 126, length)
    return _LEN64.pack(FIN_BINARY, 127, length)


def binary_frame(*parts: bytes | memoryview) -> bytes:
    """One complete binary frame whose payload is `parts` joined (one copy of them)."""
    length = sum(map(len, parts))
    return b"".join((frame_header(length), *parts))


def frame_payload(frame: bytes) -> memoryview:
    """The payload of a frame made by `binary_frame` (for sockets without a FrameSink)."""
    code = frame[1] & 0x7F
    offset = 2 if code < 126 else 4 if code == 126 else 10
    return memoryview(frame)[offset:]


class FrameSink:
    """Writes prebuilt frames straight to the transport under one prepared WebSocketResponse.

    This is the one place that reaches into aiohttp: the response's writer
    (its `_closing` flag, set once a close frame went out) and the protocol's
    write flow control (`_paused`, `_drain_helper`), which asyncio drives from
    the transport's buffer limits. Frames written here never interleave with
    aiohttp's own (text, ping, close): both write whole frames synchronously.
    """

    __slots__ = ("_protocol", "_transport", "_writer")

    def __init__(self, transport: asyncio.Transport, protocol: Any, writer: Any) -> None:
        self._transport = transport
        self._protocol = protocol
        self._writer = writer

    @classmethod
    def attach(cls, ws: web.WebSocketResponse) -> FrameSink | None:
        """The sink of a prepared response, or None if this aiohttp lays things out otherwise."""
        writer = getattr(ws, "_writer", None)
        protocol = getattr(writer, "protocol", None)
        transport = getattr(writer, "transport", None)
        if (
            transport is None
            or getattr(writer, "compress", 1)  # a compressed socket needs aiohttp's framing
            or not isinstance(getattr(protocol, "_paused", None), bool)
            or not hasattr(protocol, "_drain_helper")
            or not isinstance(getattr(writer, "_closing", None), bool)
        ):
            return None
        return cls(transport, protocol, writer)

    @property
    def closing(self) -> bool:
        """The socket is going away (closed, or a close frame was sent): write nothing more."""
        return self._writer._closing or self._transport.is_closing()

    @property
    def paused(self) -> bool:
        """The transport's buffer is over its high-water mark: wait with `drain`."""
        return self._protocol._paused

    def write(self, frame: bytes) -> None:
        self._transport.write(frame)

    async def drain(self) -> None:
        """Until the transport's buffer is below its low-water mark (ConnectionError if lost)."""
        await self._protocol._drain_helper()
