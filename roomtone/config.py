"""The server's configuration: every variable declared once, parsed once into frozen dataclasses.

The variable names are those of the original Roomtone, so its `.env` works
unchanged. Each field below is declared with `variable(...)` (variables.py):
name, kind, default and help in one place, from which the `roomtone serve`
flags, `.env.example` and README's table are derived. A bad value raises
ConfigError naming the variable, so a misconfigured server never starts
half-working. The bot's variables are in roomtone/bot/config.py.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from roomtone.pem import PublicKeys
from roomtone.variables import (
    Bool,
    Choice,
    ConfigError,
    Directory,
    Int,
    Kind,
    Seconds,
    Text,
    group,
    load,
    variable,
)

__all__ = [
    "AuthConfig",
    "ConfigError",
    "LimitsConfig",
    "ServerConfig",
    "SfuConfig",
    "WsRelayConfig",
    "load_server_config",
    "parse_ice_servers",
    "parse_port_range",
]

MEDIA_TRANSPORTS = ("ws", "webrtc", "sfu")
ICE_TRANSPORT_POLICIES = ("all", "relay")
LOG_LEVELS = ("debug", "info", "warning", "error")
MiB = 1024 * 1024


def parse_ice_servers(raw: str) -> tuple[dict, ...]:
    """ICE_SERVERS as JSON (one server object or an array) or URLs split by commas/spaces."""
    raw = raw.strip()
    if not raw:
        return ()
    if raw[0] in "[{":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError("ICE_SERVERS", f"invalid JSON ({exc.msg})") from None
        items = data if isinstance(data, list) else [data]
        servers = []
        for item in items:
            if isinstance(item, str):
                item = {"urls": item}
            if not isinstance(item, dict) or not item.get("urls"):
                raise ConfigError("ICE_SERVERS", 'each server needs "urls"')
            servers.append(item)
        return tuple(servers)
    urls = [u for u in re.split(r"[,\s]+", raw) if u]
    for url in urls:
        if not re.match(r"^(stun|stuns|turn|turns):", url):
            raise ConfigError("ICE_SERVERS", f"not a stun:/turn: URL: {url!r}")
    return tuple({"urls": url} for url in urls)


def parse_port_range(raw: str) -> tuple[int, int] | None:
    raw = raw.strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,5})\s*-\s*(\d{1,5})", raw)
    if not match:
        raise ConfigError("SFU_PORT_RANGE", f"must look like 40000-40099 (got {raw!r})")
    low, high = int(match[1]), int(match[2])
    if not (1024 <= low <= high <= 65535):
        raise ConfigError("SFU_PORT_RANGE", f"needs 1024 <= first <= last <= 65535 (got {raw!r})")
    return low, high


class IceServers(Kind):
    metavar = "SERVERS"

    def parse(self, text: str, name: str) -> tuple[dict, ...]:
        return parse_ice_servers(text)

    def show(self, value: Any) -> str:
        return json.dumps(list(value), separators=(",", ":")) if value else ""


class PortRange(Kind):
    metavar = "FIRST-LAST"

    def parse(self, text: str, name: str) -> tuple[int, int] | None:
        return parse_port_range(text)

    def show(self, value: Any) -> str:
        return f"{value[0]}-{value[1]}" if value else ""


class IpAddress(Kind):
    metavar = "IP"

    def parse(self, text: str, name: str) -> str:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise ConfigError(name, f"must be an IP address (got {text!r})") from None


@dataclass(frozen=True)
class AuthConfig:
    SECTION: ClassVar[str] = "server: authentication (docs/AUTH.md)"

    enabled: bool = variable(
        "AUTH_ENABLED", Bool(), False, "require an RS256 JWT on every request and WS handshake"
    )
    public_keys: tuple[RSAPublicKey, ...] = variable(
        "AUTH_PUBLIC_KEYS",
        PublicKeys(),
        (),
        "PEM RSA public keys (several allowed, >= 2048 bits)",
        file_help="file holding PEM RSA public keys (added to AUTH_PUBLIC_KEYS)",
    )
    cookie_name: str = variable(
        "AUTH_COOKIE_NAME",
        Text(r"[A-Za-z0-9_\-]{1,64}", "must be 1-64 letters, digits, '_' or '-'"),
        "roomtone_auth",
        "name of the auth cookie",
    )
    clock_skew_seconds: int = variable(
        "AUTH_CLOCK_SKEW_SECONDS", Int(0, 3600), 30, "allowed clock skew for exp/nbf/iat, seconds"
    )

    def checked(self) -> AuthConfig:
        if self.enabled and not self.public_keys:
            raise ConfigError(
                "AUTH_ENABLED",
                "is true but neither AUTH_PUBLIC_KEYS nor AUTH_PUBLIC_KEYS_FILE holds a key",
            )
        return self


@dataclass(frozen=True)
class SfuConfig:
    SECTION: ClassVar[str] = "server: sfu mode"

    port_range: tuple[int, int] | None = variable(
        "SFU_PORT_RANGE",
        PortRange(),
        None,
        "UDP ports for SFU ICE, e.g. 40000-40099 (empty: the OS picks)",
        example="40000-40099",
        note="A container cannot publish OS-picked ports, so Docker uses this fixed range; "
        "docker/compose.yaml publishes the same numbers.",
    )
    announced_ip: str | None = variable(
        "SFU_ANNOUNCED_IP",
        IpAddress(),
        None,
        "public IP put in the SFU's ICE candidates (server behind NAT or in Docker)",
    )


@dataclass(frozen=True)
class WsRelayConfig:
    SECTION: ClassVar[str] = "server: ws mode"

    cache_bytes: int = variable(
        "WS_MEDIA_CACHE_BYTES",
        Int(64 * 1024),
        8 * MiB,
        "history kept per publisher for late joiners: the clusters since the latest keyframe",
    )
    queue_bytes: int = variable(
        "WS_SEND_QUEUE_BYTES",
        Int(64 * 1024),
        4 * MiB,
        "media queued per subscriber before it skips ahead to the next keyframe",
    )


@dataclass(frozen=True)
class LimitsConfig:
    """Abuse limits; the defaults are far above what a real call uses."""

    SECTION: ClassVar[str] = "server: abuse limits (docs/RELIABILITY.md)"

    messages_per_second: int = variable(
        "WS_MESSAGES_PER_SECOND",
        Int(1),
        50,
        "control messages a socket may send per second (bursts of 4 s worth)",
    )
    media_bytes_per_second: int = variable(
        "WS_MEDIA_BYTES_PER_SECOND",
        Int(16 * 1024),
        4 * MiB,
        "media bytes a socket may send per second in ws mode (bursts of 2 s worth)",
    )
    max_unjoined_sockets: int = variable(
        "MAX_UNJOINED_SOCKETS", Int(1), 200, "sockets connected but not joined, whole server"
    )
    max_unjoined_per_address: int = variable(
        "MAX_UNJOINED_PER_ADDRESS",
        Int(1),
        20,
        "sockets connected but not joined, per client address",
    )
    logs_per_minute: int = variable(
        "LOGS_PER_MINUTE", Int(1), 60, "POST /logs events accepted per client address per minute"
    )
    heartbeat_seconds: float = variable(
        "WS_HEARTBEAT_SECONDS",
        Seconds(1, 3600),
        20.0,
        "WebSocket ping interval; a socket that stops answering is dropped",
    )


@dataclass(frozen=True)
class ServerConfig:
    SECTION: ClassVar[str] = "server"

    host: str = variable("HOST", Text(), "0.0.0.0", "listen address")
    port: int = variable("PORT", Int(0, 65535), 5670, "listen port")
    allow_insecure_http: bool = variable(
        "ALLOW_INSECURE_HTTP",
        Bool(),
        False,
        "allow plain HTTP from non-loopback clients (development only)",
    )
    trust_proxy: bool = variable(
        "TRUST_PROXY",
        Bool(),
        False,
        "trust X-Forwarded-Proto/-For from a reverse proxy",
        note="Set it to true behind your reverse proxy, never without one.",
    )
    max_participants: int = variable(
        "MAX_PARTICIPANTS",
        Int(1, 10000),
        10,
        "room capacity; the next joiner gets 'Room is full.'",
    )
    media_transport: str = variable(
        "MEDIA_TRANSPORT",
        Choice(*MEDIA_TRANSPORTS),
        "ws",
        "media path: ws (MediaRecorder over the WebSocket), webrtc (browser mesh) "
        "or sfu (the server forwards)",
    )
    ws_max_payload: int = variable(
        "WS_MAX_PAYLOAD",
        Int(1024, 256 * MiB),
        MiB,
        "max WebSocket message size in bytes (a bigger one closes the socket with 1009)",
    )
    ice_servers: tuple[dict, ...] = variable(
        "ICE_SERVERS",
        IceServers(),
        (),
        "STUN/TURN servers for webrtc and sfu: JSON, or URLs separated by commas or spaces",
    )
    ice_transport_policy: str = variable(
        "ICE_TRANSPORT_POLICY",
        Choice(*ICE_TRANSPORT_POLICIES),
        "all",
        "all, or relay (TURN only)",
    )
    join_timeout_seconds: float = variable(
        "JOIN_TIMEOUT_SECONDS",
        Seconds(1, 3600),
        15.0,
        "seconds a socket may stay connected without joining",
    )
    web_root: Path | None = variable(
        "WEB_ROOT",
        Directory(),
        None,
        "directory of a built web client to serve instead of the packaged one",
    )
    log_level: str = variable(
        "LOG_LEVEL", Choice(*LOG_LEVELS), "info", "debug, info, warning or error"
    )
    wsrelay: WsRelayConfig = group(WsRelayConfig)
    sfu: SfuConfig = group(SfuConfig)
    limits: LimitsConfig = group(LimitsConfig)
    auth: AuthConfig = group(AuthConfig)


def load_server_config(env: Mapping[str, str] | None = None) -> ServerConfig:
    """Parse the server's variables; raises ConfigError on the first bad one."""
    return load(ServerConfig, os.environ if env is None else env)
