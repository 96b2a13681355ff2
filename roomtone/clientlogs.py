"""`POST /logs`: client events (joins, media errors, reconnects) into the server's log.

Browsers have no other way to tell operators what went wrong on their side.
Input is untrusted: size-limited, depth-limited, long strings truncated, and
tokens or names in URLs redacted before anything is written.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from roomtone import eventlog
from roomtone.config import ServerConfig
from roomtone.ratelimit import KeyedBuckets
from roomtone.security import client_address

MAX_BODY_BYTES = 32 * 1024
MAX_STRING_CHARS = 1000
MAX_DEPTH = 4
MAX_ITEMS = 50
MAX_EVENT_CHARS = 64
# Fields the server sets itself; a client may not forge them.
RESERVED = frozenset({"ts", "source", "ip"})


class InvalidLog(ValueError):
    """The reason a log event was refused; sent back as the 400 body."""


def sanitize(value: Any, depth: int = 0) -> Any:
    """A bounded, redacted copy of client JSON."""
    if isinstance(value, str):
        value = eventlog.redact(value)
        if len(value) > MAX_STRING_CHARS:
            return value[:MAX_STRING_CHARS] + "…[truncated]"
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, list):
        return [sanitize(item, depth + 1) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k)[:MAX_EVENT_CHARS]: sanitize(v, depth + 1) for k, v in items}
    return str(value)[:MAX_STRING_CHARS]


def parse_event(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise InvalidLog("Log event too large (32 KB max).")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidLog("Log event must be JSON.") from None
    if not isinstance(data, dict):
        raise InvalidLog("Log event must be a JSON object.")
    event = data.get("event")
    if not isinstance(event, str) or not event.strip():
        raise InvalidLog('Log event needs an "event" string.')
    if len(event) > MAX_EVENT_CHARS:
        raise InvalidLog(f'"event" is longer than {MAX_EVENT_CHARS} characters.')
    fields = {k: v for k, v in sanitize(data).items() if k not in RESERVED and k != "event"}
    return {"event": event.strip(), **fields}


def logs_handler(config: ServerConfig):
    """The `POST /logs` handler, rate-limited per client address."""
    per_minute = config.limits.logs_per_minute
    buckets = KeyedBuckets(rate=per_minute / 60, burst=max(1, per_minute // 2))

    async def post_logs(request: web.Request) -> web.Response:
        ip = client_address(request, config)
        if not buckets.take(ip):
            return web.Response(status=429, text="Too many log events; try again later.")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        try:
            record = parse_event(body)
        except InvalidLog as exc:
            return web.Response(status=400, text=str(exc))
        eventlog.emit(record.pop("event"), source="client", ip=ip, **record)
        return web.Response(status=204)

    return post_logs
