"""Configuration: every environment variable parsed once into frozen dataclasses.

The variable names are those of the original Roomtone, so its `.env` works
unchanged. A bad value raises :class:`ConfigError` naming the variable; the CLI
turns that into one line on stderr and exit code 2, so a misconfigured server
never starts half-working.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

MEDIA_TRANSPORTS = ("ws", "webrtc", "sfu")
ICE_TRANSPORT_POLICIES = ("all", "relay")
LOG_LEVELS = ("debug", "info", "warning", "error")
MIN_RSA_BITS = 2048
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class AuthConfig:
    enabled: bool = False
    public_keys: tuple[RSAPublicKey, ...] = ()
    cookie_name: str = "roomtone_auth"
    clock_skew_seconds: int = 30


@dataclass(frozen=True)
class SfuConfig:
    port_range: tuple[int, int] | None = None
    announced_ip: str | None = None


@dataclass(frozen=True)
class WsRelayConfig:
    # History kept per publisher for late joiners: the clusters since the latest keyframe.
    cache_bytes: int = 8 * 1024 * 1024
    # Media queued for one recipient before it is skipped ahead to the next keyframe.
    queue_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class LimitsConfig:
    """Abuse limits; the defaults are far above what a real call uses."""

    messages_per_second: int = 50  # control messages per socket (burst: 4 s worth)
    media_bytes_per_second: int = 4 * 1024 * 1024  # ws media per socket (burst: 2 s worth)
    max_unjoined_sockets: int = 200  # connected but not joined, whole server
    max_unjoined_per_address: int = 20
    logs_per_minute: int = 60  # POST /logs per client address
    heartbeat_seconds: float = 20.0  # ping interval; a silent socket is dropped after ~1.5x


@dataclass(frozen=True)
class ServerConfig:
    host: str = "0.0.0.0"
    port: int = 5670
    allow_insecure_http: bool = False
    trust_proxy: bool = False
    max_participants: int = 10
    ws_max_payload: int = 1024 * 1024
    media_transport: str = "ws"
    ice_servers: tuple[dict, ...] = ()
    ice_transport_policy: str = "all"
    auth: AuthConfig = field(default_factory=AuthConfig)
    sfu: SfuConfig = field(default_factory=SfuConfig)
    wsrelay: WsRelayConfig = field(default_factory=WsRelayConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    web_root: Path | None = None
    log_level: str = "info"
    join_timeout_seconds: float = 15.0


@dataclass(frozen=True)
class BotConfig:
    enabled: bool = False
    token: str = ""
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    admin_users: frozenset[int] = frozenset()
    admin_usernames: frozenset[str] = frozenset()
    bot_username: str = ""
    notify_chats: frozenset[int] | None = None  # None: the allowed chats
    command: str = "/invite"
    public_base_url: str = ""
    server_url: str = ""  # where /participants is read; defaults to PUBLIC_BASE_URL
    jwt_private_key: RSAPrivateKey | None = None
    jwt_ttl_seconds: int = 300
    jwt_issuer: str = "roomtone-telegram"
    api_base_url: str = "https://api.telegram.org"
    state_file: Path = Path("roomtone-bot-state.json")
    notify_poll_seconds: float = 10.0
    log_level: str = "info"


# Variables of `roomtone serve`, with their defaults as text and a help line;
# the CLI builds its flags (and `--help`) from this table.
SERVER_VARIABLES: dict[str, tuple[str, str]] = {
    "HOST": ("0.0.0.0", "listen address"),
    "PORT": ("5670", "listen port"),
    "ALLOW_INSECURE_HTTP": ("false", "allow plain HTTP from non-loopback clients (dev only)"),
    "TRUST_PROXY": ("false", "trust X-Forwarded-Proto/-For from a reverse proxy"),
    "MAX_PARTICIPANTS": ("10", "room capacity"),
    "WS_MAX_PAYLOAD": ("1048576", "max WebSocket message size in bytes"),
    "MEDIA_TRANSPORT": ("ws", "media path: ws, webrtc or sfu"),
    "ICE_SERVERS": ("", "STUN/TURN servers: JSON, or URLs separated by commas or spaces"),
    "ICE_TRANSPORT_POLICY": ("all", "all or relay"),
    "AUTH_ENABLED": ("false", "require an RS256 JWT on every request and WS handshake"),
    "AUTH_PUBLIC_KEYS": ("", "PEM RSA public keys (several allowed, >= 2048 bits)"),
    "AUTH_PUBLIC_KEYS_FILE": ("", "file holding PEM RSA public keys"),
    "AUTH_COOKIE_NAME": ("roomtone_auth", "name of the auth cookie"),
    "AUTH_CLOCK_SKEW_SECONDS": ("30", "allowed clock skew for exp/nbf/iat"),
    "SFU_PORT_RANGE": ("", "UDP ports for SFU ICE, e.g. 40000-40099 (empty: OS picks)"),
    "SFU_ANNOUNCED_IP": ("", "public IP advertised in SFU candidates"),
    "WS_MEDIA_CACHE_BYTES": ("8388608", "per-publisher history kept for late joiners (ws)"),
    "WS_SEND_QUEUE_BYTES": ("4194304", "per-recipient media queue before skipping ahead (ws)"),
    "WS_MESSAGES_PER_SECOND": ("50", "control messages a socket may send per second"),
    "WS_MEDIA_BYTES_PER_SECOND": ("4194304", "media bytes a socket may send per second (ws)"),
    "MAX_UNJOINED_SOCKETS": ("200", "sockets connected but not joined, whole server"),
    "MAX_UNJOINED_PER_ADDRESS": ("20", "sockets connected but not joined, per client address"),
    "LOGS_PER_MINUTE": ("60", "POST /logs events accepted per client address per minute"),
    "WS_HEARTBEAT_SECONDS": ("20", "WebSocket ping interval; silent sockets are dropped"),
    "JOIN_TIMEOUT_SECONDS": ("15", "seconds a socket may stay connected without joining"),
    "WEB_ROOT": ("", "directory of a built web client to serve instead of the packaged one"),
    "LOG_LEVEL": ("info", "debug, info, warning or error"),
}


def _get(env: Mapping[str, str], name: str) -> str:
    default = SERVER_VARIABLES.get(name, ("", ""))[0]
    return env.get(name, default).strip()


def parse_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"must be true or false (got {raw!r})")


def parse_int(
    env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer (got {raw!r})") from None
    if value < low or (high is not None and value > high):
        allowed = f"{low}-{high}" if high is not None else f">= {low}"
        raise ConfigError(name, f"must be in {allowed} (got {value})")
    return value


def parse_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)} (got {value!r})")
    return value


def parse_id_set(env: Mapping[str, str], name: str) -> frozenset[int]:
    """Telegram ids separated by commas or spaces."""
    items = [p for p in re.split(r"[,\s]+", env.get(name, "")) if p]
    try:
        return frozenset(int(p) for p in items)
    except ValueError:
        raise ConfigError(name, "must be numeric ids separated by commas") from None


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


def _pem_blocks(text: str) -> list[str]:
    # .env files often carry PEMs on one line with literal "\n".
    return _PEM_BLOCK.findall(text.replace("\\n", "\n"))


def parse_public_keys(env: Mapping[str, str]) -> tuple[RSAPublicKey, ...]:
    blocks: list[tuple[str, str]] = [
        ("AUTH_PUBLIC_KEYS", b) for b in _pem_blocks(env.get("AUTH_PUBLIC_KEYS", ""))
    ]
    path = env.get("AUTH_PUBLIC_KEYS_FILE", "").strip()
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(
                "AUTH_PUBLIC_KEYS_FILE", f"cannot read {path}: {exc.strerror}"
            ) from None
        blocks += [("AUTH_PUBLIC_KEYS_FILE", b) for b in _pem_blocks(text)]
    keys = []
    for variable, block in blocks:
        try:
            key = load_pem_public_key(block.encode())
        except ValueError:
            raise ConfigError(variable, "holds a PEM block that is not a public key") from None
        if not isinstance(key, RSAPublicKey):
            raise ConfigError(variable, "only RSA public keys are accepted (RS256)")
        if key.key_size < MIN_RSA_BITS:
            raise ConfigError(variable, f"RSA key of {key.key_size} bits; at least 2048 needed")
        keys.append(key)
    return tuple(keys)


def parse_private_key(env: Mapping[str, str], name: str) -> RSAPrivateKey | None:
    """NAME holds a PEM, NAME_FILE a path to one."""
    text = env.get(name, "").replace("\\n", "\n").strip()
    file_name = f"{name}_FILE"
    variable = name
    if not text and env.get(file_name, "").strip():
        variable = file_name
        try:
            text = Path(env[file_name].strip()).read_text()
        except OSError as exc:
            raise ConfigError(file_name, f"cannot read file: {exc.strerror}") from None
    if not text:
        return None
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(variable, "is not an unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise ConfigError(variable, "must be an RSA private key of at least 2048 bits")
    return key


def parse_auth(env: Mapping[str, str]) -> AuthConfig:
    enabled = parse_bool(env, "AUTH_ENABLED")
    keys = parse_public_keys(env)
    if enabled and not keys:
        raise ConfigError(
            "AUTH_ENABLED",
            "is true but neither AUTH_PUBLIC_KEYS nor AUTH_PUBLIC_KEYS_FILE holds a key",
        )
    cookie = _get(env, "AUTH_COOKIE_NAME")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", cookie):
        raise ConfigError("AUTH_COOKIE_NAME", "must be 1-64 letters, digits, '_' or '-'")
    skew = parse_int(env, "AUTH_CLOCK_SKEW_SECONDS", 30, 0, 3600)
    return AuthConfig(
        enabled=enabled, public_keys=keys, cookie_name=cookie, clock_skew_seconds=skew
    )


def parse_announced_ip(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ConfigError("SFU_ANNOUNCED_IP", f"must be an IP address (got {raw!r})") from None


def parse_web_root(raw: str) -> Path | None:
    raw = raw.strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ConfigError("WEB_ROOT", f"is not a directory: {raw}")
    return path


def parse_limits(env: Mapping[str, str]) -> LimitsConfig:
    return LimitsConfig(
        messages_per_second=parse_int(env, "WS_MESSAGES_PER_SECOND", 50, 1),
        media_bytes_per_second=parse_int(
            env, "WS_MEDIA_BYTES_PER_SECOND", 4 * 1024 * 1024, 16 * 1024
        ),
        max_unjoined_sockets=parse_int(env, "MAX_UNJOINED_SOCKETS", 200, 1),
        max_unjoined_per_address=parse_int(env, "MAX_UNJOINED_PER_ADDRESS", 20, 1),
        logs_per_minute=parse_int(env, "LOGS_PER_MINUTE", 60, 1),
        heartbeat_seconds=float(parse_int(env, "WS_HEARTBEAT_SECONDS", 20, 1, 3600)),
    )


def load_server_config(env: Mapping[str, str] | None = None) -> ServerConfig:
    """Parse the server's variables; raises ConfigError on the first bad one."""
    env = os.environ if env is None else env
    host = _get(env, "HOST") or "0.0.0.0"
    return ServerConfig(
        host=host,
        port=parse_int(env, "PORT", 5670, 0, 65535),
        allow_insecure_http=parse_bool(env, "ALLOW_INSECURE_HTTP"),
        trust_proxy=parse_bool(env, "TRUST_PROXY"),
        max_participants=parse_int(env, "MAX_PARTICIPANTS", 10, 1, 10000),
        ws_max_payload=parse_int(env, "WS_MAX_PAYLOAD", 1024 * 1024, 1024, 256 * 1024 * 1024),
        media_transport=parse_choice(env, "MEDIA_TRANSPORT", "ws", MEDIA_TRANSPORTS),
        ice_servers=parse_ice_servers(env.get("ICE_SERVERS", "")),
        ice_transport_policy=parse_choice(
            env, "ICE_TRANSPORT_POLICY", "all", ICE_TRANSPORT_POLICIES
        ),
        auth=parse_auth(env),
        sfu=SfuConfig(
            port_range=parse_port_range(env.get("SFU_PORT_RANGE", "")),
            announced_ip=parse_announced_ip(env.get("SFU_ANNOUNCED_IP", "")),
        ),
        wsrelay=WsRelayConfig(
            cache_bytes=parse_int(env, "WS_MEDIA_CACHE_BYTES", 8 * 1024 * 1024, 64 * 1024),
            queue_bytes=parse_int(env, "WS_SEND_QUEUE_BYTES", 4 * 1024 * 1024, 64 * 1024),
        ),
        limits=parse_limits(env),
        web_root=parse_web_root(env.get("WEB_ROOT", "")),
        log_level=parse_choice(env, "LOG_LEVEL", "info", LOG_LEVELS),
        join_timeout_seconds=float(parse_int(env, "JOIN_TIMEOUT_SECONDS", 15, 1, 3600)),
    )


def load_bot_config(env: Mapping[str, str] | None = None) -> BotConfig:
    """Parse the bot's variables; the bot refuses to start without a token, URL and key."""
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN", "is required to run the bot")
    base_url = env.get("PUBLIC_BASE_URL", "").strip()
    if not re.match(r"^https?://[^/\s]+", base_url):
        raise ConfigError(
            "PUBLIC_BASE_URL", "must be the call's http(s) URL, e.g. https://call.example"
        )
    key = parse_private_key(env, "BOT_JWT_PRIVATE_KEY")
    if key is None:
        raise ConfigError("BOT_JWT_PRIVATE_KEY", "or BOT_JWT_PRIVATE_KEY_FILE is required")
    command = env.get("BOT_COMMAND", "/invite").strip() or "/invite"
    if not re.fullmatch(r"/?[a-z0-9_]{1,32}", command):
        raise ConfigError("BOT_COMMAND", "must be a Telegram command like /invite")
    notify_raw = env.get("TELEGRAM_NOTIFY_CHATS", "").strip()
    server_url = env.get("BOT_SERVER_URL", "").strip() or base_url
    usernames = {
        u.lstrip("@").lower()
        for u in re.split(r"[,\s]+", env.get("TELEGRAM_ADMIN_USERNAMES", ""))
        if u
    }
    return BotConfig(
        enabled=parse_bool(env, "BOT_ENABLED", default=True),
        token=token,
        allowed_users=parse_id_set(env, "TELEGRAM_ALLOWED_USERS"),
        allowed_chats=parse_id_set(env, "TELEGRAM_ALLOWED_CHATS"),
        admin_users=parse_id_set(env, "TELEGRAM_ADMIN_USERS"),
        admin_usernames=frozenset(usernames),
        bot_username=env.get("TELEGRAM_BOT_USERNAME", "").strip().lstrip("@"),
        notify_chats=parse_id_set(env, "TELEGRAM_NOTIFY_CHATS") if notify_raw else None,
        command="/" + command.lstrip("/"),
        public_base_url=base_url.rstrip("/"),
        server_url=server_url.rstrip("/"),
        jwt_private_key=key,
        jwt_ttl_seconds=parse_int(env, "BOT_JWT_TTL_SECONDS", 300, 5, 30 * 24 * 3600),
        jwt_issuer=env.get("BOT_JWT_ISSUER", "").strip() or "roomtone-telegram",
        api_base_url=(
            env.get("TELEGRAM_API_BASE_URL", "").strip() or "https://api.telegram.org"
        ).rstrip("/"),
        state_file=Path(env.get("BOT_STATE_FILE", "").strip() or "roomtone-bot-state.json"),
        notify_poll_seconds=float(parse_int(env, "BOT_NOTIFY_POLL_SECONDS", 10, 1, 3600)),
        log_level=parse_choice(env, "LOG_LEVEL", "info", LOG_LEVELS),
    )
