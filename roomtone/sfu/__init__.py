"""aiortc SFU: forwards encoded Opus/VP8 frames between participants, never transcoding."""

from roomtone.sfu.transport import SfuTransport

__all__ = ["SfuTransport"]
