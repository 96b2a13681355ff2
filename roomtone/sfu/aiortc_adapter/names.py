"""The aiortc versions this adapter was tested with, and the private names it reaches."""

from __future__ import annotations

import aiortc.rtcdtlstransport

TESTED_AIORTC = ("1.16",)
FORBID_CODECS_ENV = "ROOMTONE_SFU_FORBID_CODECS"
FORBIDDEN_MARKER = "SFU codec use forbidden"

# Name-mangled private attributes (aiortc 1.16).
_RECEIVER_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_SENDER_ENCODER = "_RTCRtpSender__encoder"
_SENDER_MID = "_RTCRtpSender__mid"
_SENDER_EXTENSIONS_MAP = "_RTCRtpSender__rtp_header_extensions_map"
_SENDER_RTX_PAYLOAD_TYPE = "_RTCRtpSender__rtx_payload_type"
_SENDER_RTP_STARTED = "_RTCRtpSender__rtp_started"
_SENDER_RTP_EXITED = "_RTCRtpSender__rtp_exited"
_SENDER_PACKET_COUNT = "_RTCRtpSender__packet_count"
_SENDER_OCTET_COUNT = "_RTCRtpSender__octet_count"
_SENDER_NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
_SENDER_RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
_SENDER_TRACK = "_RTCRtpSender__track"
_DTLS_TX_BYTES = "_RTCDtlsTransport__tx_bytes"
_DTLS_TX_PACKETS = "_RTCDtlsTransport__tx_packets"
_DTLS_RX_BYTES = "_RTCDtlsTransport__rx_bytes"
_DTLS_RX_PACKETS = "_RTCDtlsTransport__rx_packets"
_DTLS_HANDSHAKE_DONE = "_RTCDtlsTransport__handshake_done"
_DTLS_CONNECTED = aiortc.rtcdtlstransport.State.CONNECTED
# Marks an aioice connection whose datagrams we handle synchronously (receiving.py).
_RECEIVE_HOOKED = "_roomtone_sfu_dtls"
