"""The aiortc versions this adapter was tested with, and how it spells name-mangled attributes.

Python mangles `self.__x` inside class `C` to `_C__x`; these constants are
those spellings for aiortc 1.16. The package docstring's table says what
each is used for and which contract test guards it.
"""

from __future__ import annotations

from aiortc.rtcdtlstransport import State

TESTED_AIORTC = ("1.16",)
TESTED_AIOICE = ("0.13",)

RECEIVER_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
RECEIVER_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
SENDER_ENCODER = "_RTCRtpSender__encoder"
DTLS_HANDSHAKE_DONE = "_RTCDtlsTransport__handshake_done"
DTLS_CONNECTED = State.CONNECTED

# Attributes this adapter sets on aioice objects and on the event loop, to hook them once.
WIRE_HOOKED = "_roomtone_sfu_wire"
PORT_HOOKED = "_roomtone_sfu_port_hook"
FLUSHER = "_roomtone_sfu_flusher"  # on the loop: outbox.Flusher
