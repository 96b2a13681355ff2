"""Every aiortc/aioice internal Roomtone relies on, in one package.

aiortc has no public API for forwarding encoded media, choosing local ports or
turning PLIs into keyframe requests for pre-encoded tracks, so the SFU (and
the load test's and tests' aiortc clients) reach into private names. Only the
modules of this package name them; each module's docstrings say why and which
aiortc code they depend on. Versions: aiortc 1.16 and aioice 0.13, pinned in
pyproject.toml and checked by test_tested_versions.

The table lists every reached-into name (private attributes and methods, and
public ones replaced on an instance or module) with the contract test in
tests/unit/test_sfu_adapter.py that fails when an upgrade moves it; that test
file also checks this table against itself and names.py. After an upgrade,
fix the module named in the group heading. A new module that reaches in adds
its own group; one name per row. Connection, CandidatePair and StunProtocol
are aioice's, `loop` is the asyncio event loop, everything else is aiortc's.

========================================= ==========================================================
reached into                              guarded by
========================================= ==========================================================
receiving.py: tap_receiver, receive_synchronously, send_pli, drive
RTCRtpReceiver.__decoder_queue            test_tap_delivers_reassembled_vp8_frames_without_decoding
RTCRtpReceiver.__decoder_thread           test_tap_refuses_a_receiver_that_already_started
RTCRtpReceiver.__jitter_buffer            test_forwarding_releases_each_frame_when_complete
RTCRtpReceiver.receive                    test_receiver_handles_srtp_in_the_datagram_callback
RTCRtpReceiver._send_rtcp_pli             test_send_pli_addresses_the_publisher_ssrc
JitterBuffer._packets                     test_forwarding_jitter_buffer_survives_loss_and_reordering
JitterBuffer._origin                      test_forwarding_jitter_buffer_survives_loss_and_reordering
JitterBuffer._capacity                    test_private_attributes_exist
JitterBuffer._is_video                    test_private_attributes_exist
JitterBuffer.remove                       test_forwarding_audio_goes_out_per_packet_across_gaps
RtpPacket._data                           test_forwarding_releases_each_frame_when_complete
RTCDtlsTransport._rx_srtp                 test_recv_next_is_what_receive_synchronously_replicates
RTCDtlsTransport._state                   test_run_rtp_still_does_what_forwarding_sender_replicates
RTCDtlsTransport.__handshake_done         test_recv_next_is_what_receive_synchronously_replicates
RTCDtlsTransport.__rx_bytes               test_recv_next_is_what_receive_synchronously_replicates
RTCDtlsTransport.__rx_packets             test_recv_next_is_what_receive_synchronously_replicates
RTCDtlsTransport._handle_rtp_data         test_recv_next_is_what_receive_synchronously_replicates
RTCDtlsTransport._handle_rtcp_data        test_recv_next_is_what_receive_synchronously_replicates
rtcdtlstransport.clock.current_ms         test_recv_next_is_what_receive_synchronously_replicates
RTCIceTransport._connection               test_recv_next_is_what_receive_synchronously_replicates
Connection._queue                         test_recv_next_is_what_receive_synchronously_replicates
Connection.data_received                  test_recv_next_is_what_receive_synchronously_replicates
sending.py: install_packer, on_keyframe_request, install_forwarding_sender, ForwardingSender
RTCRtpSender.__encoder                    test_packer_replaces_the_encoder_and_sends_rtp
RTCRtpSender._send_keyframe               test_keyframe_requests_reach_the_callback
RTCRtpSender._run_rtp                     test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender._retransmit                  test_forwarding_sender_answers_nacks_from_its_history
RTCRtpSender._ssrc                        test_forwarding_sender_sends_each_frame_like_run_rtp
RTCRtpSender._rtx_ssrc                    test_forwarding_sender_answers_nacks_from_its_history
RTCRtpSender._enabled                     test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__mid                        test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__rtp_header_extensions_map  test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__rtx_payload_type           test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__rtp_started                test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__rtp_exited                 test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__track                      test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__packet_count               test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__octet_count                test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__ntp_timestamp              test_run_rtp_still_does_what_forwarding_sender_replicates
RTCRtpSender.__rtp_timestamp              test_run_rtp_still_does_what_forwarding_sender_replicates
rtcrtpsender.random_sequence_number       test_run_rtp_still_does_what_forwarding_sender_replicates
rtcrtpsender.random32                     test_run_rtp_still_does_what_forwarding_sender_replicates
RTCDtlsTransport._tx_srtp                 test_run_rtp_still_does_what_forwarding_sender_replicates
RTCDtlsTransport._send_rtp                test_forwarding_sender_uses_aiortcs_path_over_a_relay
RTCDtlsTransport.__tx_bytes               test_forwarding_sender_sends_each_frame_like_run_rtp
RTCDtlsTransport.__tx_packets             test_forwarding_sender_sends_each_frame_like_run_rtp
Connection._nominated                     test_run_rtp_still_does_what_forwarding_sender_replicates
StunProtocol.transport                    test_run_rtp_still_does_what_forwarding_sender_replicates
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
from roomtone.sfu.aiortc_adapter.receiving import (
    FrameSink,
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
    "TESTED_AIOICE",
    "TESTED_AIORTC",
    "CodecForbidden",
    "ForwardingSender",
    "FrameOutlet",
    "FrameSink",
    "Packer",
    "PortScope",
    "PortSource",
    "create_offer",
    "dtls_role",
    "dtls_transports",
    "forbid_codecs",
    "ignored_role_changes",
    "install_forwarding_sender",
    "install_packer",
    "ntp_now",
    "on_keyframe_request",
    "parse_candidate",
    "pin_dtls_roles",
    "ports_from",
    "receive_synchronously",
    "send_pli",
    "tap_receiver",
]
