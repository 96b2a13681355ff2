"""A raw-socket WebSocket client that can misbehave: never read, never pong, vanish.

aiohttp's client always answers pings; tests of dead and stalled peers need
one that does not.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct


def _frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        header += bytes([0x80 | length])
    elif length < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


class RawWebSocket:
    def __init__(self, host: str, port: int, path: str = "/ws", recv_buffer: int = 0) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        if recv_buffer:
            # a small receive window makes the server's send buffer fill quickly
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during handshake")
            response += chunk
        if b" 101 " not in response.split(b"\r\n")[0]:
            raise ConnectionError(response.split(b"\r\n")[0].decode())

    def send_json(self, message: dict) -> None:
        self.sock.sendall(_frame(0x1, json.dumps(message).encode()))

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(_frame(0x2, data))

    def close(self) -> None:
        self.sock.close()
