"""Every aiortc/aioice internal Roomtone relies on, in one package.

aiortc has no public API for handling RTP packets itself, choosing local
ports or forwarding pre-encoded media, so the SFU (and the load test's and
tests' aiortc clients) reach into private names. Only the modules of this
package name them; each module's docstrings say why and which aiortc code
they depend on. Versions: aiortc 1.16 and aioice 0.13, pinned in
pyproject.toml and checked by test_tested_versions.

The server uses aiortc for negotiation, ICE, DTLS and the SRTP keys only:
`wire.py` routes a connection's SRTP to the packet path (roomtone/sfu/
endpoint.py) and keeps aiortc's RTP receivers and senders idle; `srtp.py`
calls libsrtp on aiortc's sessions without pylibsrtp's per-call costs.
`receiving.py` and `sending.py` serve the aiortc clients.

The table lists every reached-into name (private attributes and methods, and
public ones replaced on an instance or module) with the contract test in
tests/unit/test_sfu_adapter.py that fails when an upgrade moves it; that test
file also checks this table against itself and names.py. After an upgrade,
fix the module named in the group heading. A new module that reaches in adds
its own group; one name per row. Connection, CandidatePair and StunProtocol
are aioice's, `loop` is the asyncio event loop and DatagramTransport its UDP
transport, Session and `_binding` are pylibsrtp's, everything else is aiortc's.

========================================= ==========================================================
reached into                              guarded by
========================================= ==========================================================
wire.py: idle_transceiver, Wire
RTCRtpReceiver.receive                    test_idle_transceiver_never_starts_aiortcs_rtp
RTCRtpSender.send                         test_idle_transceiver_never_starts_aiortcs_rtp
RTCDtlsTransport._handle_rtp_data         test_recv_next_is_what_the_wire_replicates
RTCDtlsTransport._handle_rtcp_data        test_recv_next_is_what_the_wire_replicates
RTCDtlsTransport.__handshake_done         test_recv_next_is_what_the_wire_replicates
RTCDtlsTransport._rx_srtp                 test_wire_unprotects_in_the_datagram_callback
RTCDtlsTransport._tx_srtp                 test_wire_sends_on_the_nominated_pair
RTCDtlsTransport._state                   test_wire_sends_on_the_nominated_pair
RTCDtlsTransport._send_rtp                test_wire_uses_aiortcs_path_over_a_relay
RTCIceTransport._connection               test_recv_next_is_what_the_wire_replicates
Connection._queue                         test_recv_next_is_what_the_wire_replicates
Connection.data_received                  test_wire_unprotects_in_the_datagram_callback
Connection._nominated                     test_send_rtp_is_what_the_wire_replicates
Connection._protocols                     test_wire_takes_media_from_the_socket_before_stun_parsing
StunProtocol.datagram_received            test_wire_takes_media_from_the_socket_before_stun_parsing
StunProtocol.transport                    test_send_rtp_is_what_the_wire_replicates
DatagramTransport.max_size                test_wire_takes_media_from_the_socket_before_stun_parsing
DatagramTransport._sock                   test_wire_takes_media_from_the_socket_before_stun_parsing
outbox.py: Flusher, Socket
DatagramTransport._sock                   test_outbox_sends_runs_of_equal_packets_in_one_call
srtp.py: FastSrtp, fast_srtp
Session._srtp                             test_fast_srtp_does_what_pylibsrtp_does
_binding.lib.srtp_protect                 test_fast_srtp_does_what_pylibsrtp_does
_binding.lib.srtp_unprotect               test_fast_srtp_does_what_pylibsrtp_does
_binding.lib.srtp_protect_rtcp            test_fast_srtp_does_what_pylibsrtp_does
_binding.lib.srtp_unprotect_rtcp          test_fast_srtp_does_what_pylibsrtp_does
receiving.py: tap_receiver
RTCRtpReceiver.__decoder_queue            test_tap_delivers_reassembled_vp8_frames_without_decoding
RTCRtpReceiver.__decoder_thread           test_tap_refuses_a_receiver_that_already_started
sending.py: install_packer, on_keyframe_request
RTCRtpSender.__encoder                    test_packer_replaces_the_encoder_and_sends_rtp
RTCRtpSender._send_keyframe               test_keyframe_requests_reach_the_callback
negotiation.py: create_offer
RTCRtpTransceiver._codecs                 test_create_offer_keeps_negotiated_rtp_parameters
RTCRtpTransceiver._headerExtensions       test_create_offer_keeps_negotiated_rtp_parameters
dtlsrole.py: pin_dtls_roles, dtls_role, ignored_role_changes
RTCDtlsTransport._role                    test_dtls_role_of_the_first_exchange_sticks
RTCDtlsTransport._set_role                test_dtls_role_of_the_first_exchange_sticks
sockets.py: ports_from
Connection.get_component_candidates       test_host_candidates_bind_inside_the_port_range
loop.create_datagram_endpoint             test_a_full_port_range_is_reported
codecs.py: forbid_codecs
codecs.get_decoder                        test_forbid_codecs_makes_every_factory_raise
codecs.get_encoder                        test_forbid_codecs_makes_every_factory_raise
rtcrtpreceiver.get_decoder                test_forbid_codecs_makes_every_factory_raise
rtcrtpsender.get_encoder                  test_forbid_codecs_makes_every_factory_raise
av.CodecContext.create                    test_forbid_codecs_makes_every_factory_raise
========================================= ==========================================================
"""

from roomtone.sfu.aiortc_adapter.codecs import FORBIDDEN_MARKER, CodecForbidden, forbid_codecs
from roomtone.sfu.aiortc_adapter.dtlsrole import (
    dtls_role,
    dtls_transports,
    ignored_role_changes,
    pin_dtls_roles,
)
from roomtone.sfu.aiortc_adapter.names import TESTED_AIOICE, TESTED_AIORTC
from roomtone.sfu.aiortc_adapter.negotiation import create_offer, parse_candidate
from roomtone.sfu.aiortc_adapter.receiving import FrameSink, tap_receiver
from roomtone.sfu.aiortc_adapter.sending import Packer, install_packer, on_keyframe_request
from roomtone.sfu.aiortc_adapter.sockets import PortScope, PortSource, ports_from
from roomtone.sfu.aiortc_adapter.srtp import FastSrtp, fast_srtp
from roomtone.sfu.aiortc_adapter.wire import Wire, idle_transceiver

__all__ = [
    "FORBIDDEN_MARKER",
    "TESTED_AIOICE",
    "TESTED_AIORTC",
    "CodecForbidden",
    "FastSrtp",
    "FrameSink",
    "Packer",
    "PortScope",
    "PortSource",
    "Wire",
    "create_offer",
    "dtls_role",
    "dtls_transports",
    "fast_srtp",
    "forbid_codecs",
    "idle_transceiver",
    "ignored_role_changes",
    "install_packer",
    "on_keyframe_request",
    "parse_candidate",
    "pin_dtls_roles",
    "ports_from",
    "tap_receiver",
]
