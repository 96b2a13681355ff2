"""The server's DTLS role is settled by the first exchange and never changes after it.

Part of the aiortc adapter: see the package docstring.

With BUNDLE every m-section shares one DTLS transport, but aiortc 1.16
applies each section's `a=setup` to it in turn (RTCPeerConnection
setRemoteDescription / setLocalDescription call `RTCDtlsTransport._set_role`
per section). Firefox, answering the server's renegotiation offers, writes
`a=setup:passive` on existing m-sections and `a=setup:active` on newly added
bundled ones (which it ignores itself, since they are bundled). aiortc then
takes the last one and flips the server to DTLS server mid-call: if the
handshake has not started, both ends wait as DTLS servers; if it is running,
the SRTP keys are exported for the wrong role and no RTP is ever decrypted.

RFC 8842 (section 5.5) says a renegotiation keeps the DTLS association unless
the fingerprint or transport changes, and aiortc supports neither ICE restarts
nor new certificates, so the first role a transport gets is its role for good.
`pin_dtls_roles` wraps each transport's `_set_role` so that later calls that
would change it are ignored (and counted, for tests and debugging).
"""

from __future__ import annotations

import logging

from aiortc import RTCDtlsTransport, RTCPeerConnection

log = logging.getLogger(__name__)

UNSET = "auto"  # aiortc's role before negotiation decides it
_PINNED = "_roomtone_role_pinned"
_IGNORED = "_roomtone_role_changes_ignored"


def dtls_transports(pc: RTCPeerConnection) -> set[RTCDtlsTransport]:
    """Every DTLS transport the connection uses now (one with BUNDLE)."""
    transports = {t.receiver.transport for t in pc.getTransceivers()}
    if pc.sctp is not None:
        transports.add(pc.sctp.transport)
    return transports


def pin_dtls_roles(pc: RTCPeerConnection) -> None:
    """Make every transport of `pc` keep the first DTLS role it is given.

    Call after each setLocalDescription / setRemoteDescription: a transport
    whose role is still unset is guarded too, and keeps the first role
    negotiated later. Idempotent.
    """
    for transport in dtls_transports(pc):
        if getattr(transport, _PINNED, False):
            continue
        set_role = transport._set_role

        def guarded(role: str, transport: RTCDtlsTransport = transport, set_role=set_role) -> None:
            current = transport._role
            if current == UNSET or role == current:
                set_role(role)
                return
            setattr(transport, _IGNORED, ignored_role_changes(transport) + 1)
            log.debug("keeping DTLS role %s; a later description asked for %s", current, role)

        transport._set_role = guarded  # type: ignore[method-assign]
        setattr(transport, _PINNED, True)


def dtls_role(transport: RTCDtlsTransport) -> str:
    """`client`, `server`, or `auto` (not negotiated yet)."""
    return transport._role


def ignored_role_changes(transport: RTCDtlsTransport) -> int:
    return getattr(transport, _IGNORED, 0)
