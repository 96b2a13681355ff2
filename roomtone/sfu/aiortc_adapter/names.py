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
RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
SENDER_ENCODER = "_RTCRtpSender__encoder"
SENDER_MID = "_RTCRtpSender__mid"
SENDER_EXTENSIONS_MAP = "_RTCRtpSender__rtp_header_extensions_map"
SENDER_RTX_PAYLOAD_TYPE = "_RTCRtpSender__rtx_payload_type"
SENDER_RTP_STARTED = "_RTCRtpSender__rtp_started"
SENDER_RTP_EXITED = "_RTCRtpSender__rtp_exited"
SENDER_PACKET_COUNT = "_RTCRtpSender__packet_count"
SENDER_OCTET_COUNT = "_RTCRtpSender__octet_count"
SENDER_NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
SENDER_RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
SENDER_TRACK = "_RTCRtpSender__track"
DTLS_TX_BYTES = "_RTCDtlsTransport__tx_bytes"
DTLS_TX_PACKETS = "_RTCDtlsTransport__tx_packets"
DTLS_RX_BYTES = "_RTCDtlsTransport__rx_bytes"
DTLS_RX_PACKETS = "_RTCDtlsTransport__rx_packets"
DTLS_HANDSHAKE_DONE = "_RTCDtlsTransport__handshake_done"
DTLS_CONNECTED = State.CONNECTED

# Attributes this adapter sets on aioice objects and on the event loop, to hook them once.
RECEIVE_HOOKED = "_roomtone_sfu_dtls"
PORT_HOOKED = "_roomtone_sfu_port_hook"
