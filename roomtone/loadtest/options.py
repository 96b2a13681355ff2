"""`roomtone loadtest` arguments: parsing, limits, and the server URL turned into `/ws`.

Limits keep every run bounded in participants, time and bandwidth, so a typo
cannot turn a load test into an accidental flood.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MODES = ("ws", "webrtc", "sfu")
CUTS = ("anywhere", "elements")
MAX_PARTICIPANTS = 100
MAX_DURATION = 3600.0
SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


@dataclass(frozen=True)
class Options:
    url: str
    mode: str
    participants: int
    duration: float
    bitrate_kbps: int = 600
    video_size: tuple[int, int] = (320, 240)
    timeslice_ms: int = 200
    cut: str = "anywhere"
    server_pid: int | None = None
    json_path: Path | None = None
    ramp: bool = False
    token: str | None = None

    @property
    def ws_url(self) -> str:
        return ws_url(self.url, self.token)


def ws_url(url: str, token: str | None = None) -> str:
    """ws(s)://host/…/ws for an http(s) base URL; a `token` replaces one in the query."""
    parts = urlsplit(url.strip())
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"--url must be http(s)://host[:port] (got {url!r})")
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    if token:
        query = [(k, v) for k, v in query if k != "token"] + [("token", token)]
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def redact(url: str) -> str:
    """The URL with any token hidden, for reports and messages."""
    parts = urlsplit(url)
    query = [(k, "redacted" if k == "token" else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def _bounded(kind: type, low: float, high: float) -> Callable[[str], Any]:
    """An argparse `type` that also enforces limits."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be within {low:g}-{high:g} (got {text})")
        return value

    return parse


def _video_size(text: str) -> tuple[int, int]:
    """`WIDTHxHEIGHT`, even numbers (4:2:0 video) within 64x64-1920x1080."""
    width, _, height = text.lower().partition("x")
    try:
        size = int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT (got {text!r})") from None
    if not (64 <= size[0] <= 1920 and 64 <= size[1] <= 1080) or size[0] % 2 or size[1] % 2:
        raise argparse.ArgumentTypeError(f"must be even, within 64x64-1920x1080 (got {text})")
    return size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:5670")
    parser.add_argument("--mode", required=True, choices=MODES, help="media transport to load")
    parser.add_argument(
        "--participants",
        type=_bounded(int, 2, MAX_PARTICIPANTS),
        default=4,
        help="synthetic participants (with --ramp: the final room size) [default: 4]",
    )
    parser.add_argument(
        "--duration",
        type=_bounded(float, 1, MAX_DURATION),
        default=20.0,
        help="seconds of measurement with everyone in the room (with --ramp: split over the "
        "room sizes) [default: 20]",
    )
    parser.add_argument(
        "--bitrate",
        dest="bitrate_kbps",
        type=_bounded(int, 32, 20000),
        default=600,
        help="media bitrate per participant in kbit/s [default: 600]",
    )
    parser.add_argument(
        "--video",
        dest="video_size",
        type=_video_size,
        default=(320, 240),
        metavar="WxH",
        help="video frame size of the synthetic VP8 [default: 320x240]",
    )
    parser.add_argument(
        "--timeslice",
        dest="timeslice_ms",
        type=_bounded(int, 20, 5000),
        default=200,
        help="ws mode: milliseconds of media per chunk, like MediaRecorder's [default: 200]",
    )
    parser.add_argument(
        "--cut",
        choices=CUTS,
        default="anywhere",
        help="ws mode: end chunks at any byte, or only after whole WebM blocks [default: anywhere]",
    )
    parser.add_argument(
        "--server-pid", type=int, help="server process id: report its CPU and memory from /proc"
    )
    parser.add_argument("--json", dest="json_path", type=Path, help="write the report here")
    parser.add_argument(
        "--ramp",
        action="store_true",
        help="grow the room from 2 to --participants one at a time and report where "
        "delivery first degrades",
    )
    parser.add_argument("--token", help="JWT for a server with AUTH_ENABLED (or ?token= in --url)")


def from_namespace(args: argparse.Namespace) -> Options:
    ws_url(args.url, args.token)  # validate early: a bad URL is a usage error
    return Options(
        url=args.url,
        mode=args.mode,
        participants=args.participants,
        duration=args.duration,
        bitrate_kbps=args.bitrate_kbps,
        video_size=args.video_size,
        timeslice_ms=args.timeslice_ms,
        cut=args.cut,
        server_pid=args.server_pid,
        json_path=args.json_path,
        ramp=args.ramp,
        token=args.token,
    )
