"""WS media mode: MediaRecorder chunks relayed over the signaling WebSocket.

`framing` (binary packet), `ebml` + `webm` (incremental parser), `stream` (one
publisher's init segment and sync-point history), `fanout` (publications and
their subscriptions: live/waiting delivery within a memory bound), `relay`
(the Transport: publish on media-start, unpublish on media-stop or leave).
"""

from roomtone.wsrelay.relay import WsRelay

__all__ = ["WsRelay"]
