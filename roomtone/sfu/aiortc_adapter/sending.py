"""Senders of the aiortc clients (tests, load test, benchmark): pre-encoded frames packed
with our packers instead of an encoder, and keyframe requests to the track.

Part of the aiortc adapter: see the package docstring. The server itself
never runs aiortc's senders (wire.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiortc import RTCRtpSender

from roomtone.sfu.aiortc_adapter.names import SENDER_ENCODER


class Packer(Protocol):
    """Turns one pre-encoded frame into RTP payloads (see packetize.py)."""

    def pack(self, frame: Any) -> tuple[list[bytes], int]: ...


def install_packer(sender: RTCRtpSender, packer: Packer) -> None:
    """Make `sender` pack pre-encoded frames with `packer`, never creating an encoder.

    aiortc 1.16: `RTCRtpSender._next_encoded_frame` calls `get_encoder(codec)`
    when `__encoder` is None (OpusEncoder() opens a libopus encoder even if it
    only ever packs), then `__encoder.pack(data)` for anything that is not an
    `av.Frame`. Presetting `__encoder` skips the factory.
    """
    if getattr(sender, SENDER_ENCODER, False) is not None:
        raise RuntimeError("aiortc RTCRtpSender has no idle encoder slot; check aiortc_adapter")
    setattr(sender, SENDER_ENCODER, packer)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the remote side sends a PLI or FIR for `sender`.

    aiortc 1.16: `RTCRtpSender._handle_rtcp_packet` calls `self._send_keyframe()`,
    which only flags its encoder; an instance attribute shadows that method.
    """
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise RuntimeError("aiortc RTCRtpSender._send_keyframe is gone; check aiortc_adapter")
    sender._send_keyframe = callback  # type: ignore[method-assign]
