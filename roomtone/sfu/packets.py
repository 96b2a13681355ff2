"""The default media strategy: forward RTP packets, per layer, per subscriber line.

Each connection is an Endpoint (endpoint.py): the publisher side demuxes
every SRTP packet in the socket callback into the publication's layers
(uplink.py, inbound.py, layers.py), each subscriber line rewrites and sends
the packets of the layer its allocation chose (downlink.py, outbound.py).
aiortc negotiates and runs ICE and DTLS; its RTP receivers and senders on
these m-lines never run (aiortc_adapter.wire). Nothing is decoded, encoded or
reassembled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection

from roomtone.sfu.endpoint import Endpoint


class PacketStrategy:
    """MediaStrategy: see the module docstring."""

    def connect(self, pc: RTCPeerConnection, notify: Callable[[dict[str, Any]], None]) -> Endpoint:
        return Endpoint(pc, notify)
