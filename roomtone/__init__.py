"""Roomtone: a self-hosted single-room audio/video call server."""

__version__ = "0.1.0"
