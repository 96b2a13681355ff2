"""Every aiortc/aioice internal the SFU relies on, in one package.

aiortc has no public API for forwarding encoded media, choosing local ports or
turning PLIs into keyframe requests for pre-encoded tracks, so the SFU reaches
into a few private attributes. They are all here, each with the reason and the
aiortc code it depends on, and tests/unit/test_sfu_adapter.py checks them
against the installed aiortc (pinned in pyproject.toml: aiortc>=1.16,<1.17,
aioice>=0.13,<0.14). If one of those tests fails after an upgrade, fix this
package: `names` (versions and private attribute names), `receiving`
(frames out of the receiver, the forwarding jitter buffer, synchronous SRTP
receive, PLI), `sending` (packers, keyframe requests, the synchronous
forwarding sender), `negotiation` (offers, candidates), `sockets` (port
range), `codecs` (the proof that no codec runs).
"""

from roomtone.sfu.aiortc_adapter.codecs import (
    CodecForbidden,
    forbid_codecs,
    forbid_codecs_if_requested,
)
from roomtone.sfu.aiortc_adapter.names import (
    _DTLS_HANDSHAKE_DONE,
    _DTLS_RX_BYTES,
    _DTLS_RX_PACKETS,
    _RECEIVER_DECODER_QUEUE,
    _RECEIVER_JITTER_BUFFER,
    _SENDER_ENCODER,
    _SENDER_EXTENSIONS_MAP,
    _SENDER_MID,
    _SENDER_NTP_TIMESTAMP,
    _SENDER_OCTET_COUNT,
    _SENDER_PACKET_COUNT,
    _SENDER_RTP_EXITED,
    _SENDER_RTP_STARTED,
    _SENDER_RTP_TIMESTAMP,
    _SENDER_RTX_PAYLOAD_TYPE,
    _SENDER_TRACK,
    FORBID_CODECS_ENV,
    FORBIDDEN_MARKER,
    TESTED_AIORTC,
)
from roomtone.sfu.aiortc_adapter.negotiation import create_offer, parse_candidate
from roomtone.sfu.aiortc_adapter.receiving import (
    FrameSink,
    _drive,
    receive_synchronously,
    send_pli,
    tap_receiver,
)
from roomtone.sfu.aiortc_adapter.sending import (
    ForwardingSender,
    FrameOutlet,
    Packer,
    install_forwarding_sender,
    install_packer,
    ntp_now,
    on_keyframe_request,
)
from roomtone.sfu.aiortc_adapter.sockets import PortScope, PortSource, ports_from

__all__ = [
    "FORBIDDEN_MARKER",
    "FORBID_CODECS_ENV",
    "TESTED_AIORTC",
    "_DTLS_HANDSHAKE_DONE",
    "_DTLS_RX_BYTES",
    "_DTLS_RX_PACKETS",
    "_RECEIVER_DECODER_QUEUE",
    "_RECEIVER_JITTER_BUFFER",
    "_SENDER_ENCODER",
    "_SENDER_EXTENSIONS_MAP",
    "_SENDER_MID",
    "_SENDER_NTP_TIMESTAMP",
    "_SENDER_OCTET_COUNT",
    "_SENDER_PACKET_COUNT",
    "_SENDER_RTP_EXITED",
    "_SENDER_RTP_STARTED",
    "_SENDER_RTP_TIMESTAMP",
    "_SENDER_RTX_PAYLOAD_TYPE",
    "_SENDER_TRACK",
    "CodecForbidden",
    "ForwardingSender",
    "FrameOutlet",
    "FrameSink",
    "Packer",
    "PortScope",
    "PortSource",
    "_drive",
    "create_offer",
    "forbid_codecs",
    "forbid_codecs_if_requested",
    "install_forwarding_sender",
    "install_packer",
    "ntp_now",
    "on_keyframe_request",
    "parse_candidate",
    "ports_from",
    "receive_synchronously",
    "send_pli",
    "tap_receiver",
]
