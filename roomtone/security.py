"""HTTPS enforcement, the trusted reverse proxy, and security headers.

Calls carry camera and microphone, so plain HTTP is refused except from the
machine itself (development) or when explicitly allowed. Behind a reverse
proxy, `TRUST_PROXY=true` makes X-Forwarded-Proto/-For authoritative.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from roomtone.config import ServerConfig

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # React sets style properties through the CSSOM; inline style attributes need this.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self)",
}
HSTS = "max-age=31536000; includeSubDomains"
OPEN_PATHS = frozenset({"/health"})


def _first_header_value(request: web.BaseRequest, name: str) -> str:
    return request.headers.get(name, "").split(",")[0].strip().lower()


def client_address(request: web.BaseRequest, config: ServerConfig) -> str:
    """The real client: the TCP peer, or the proxy's last X-Forwarded-For hop when trusted."""
    if config.trust_proxy:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if forwarded:
            return forwarded[-1]
    return request.remote or ""


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def is_secure(request: web.BaseRequest, config: ServerConfig) -> bool:
    if request.secure:
        return True
    return config.trust_proxy and _first_header_value(request, "X-Forwarded-Proto") == "https"


def https_required(request: web.BaseRequest, config: ServerConfig) -> bool:
    """True when this request must be refused for arriving over plain HTTP."""
    if request.path in OPEN_PATHS or config.allow_insecure_http:
        return False
    if is_secure(request, config):
        return False
    return not is_loopback(client_address(request, config))


def security_middleware(config: ServerConfig):
    @web.middleware
    async def middleware(request: web.Request, handler):
        if https_required(request, config):
            return web.Response(status=400, text="HTTPS is required.")
        return await handler(request)

    return middleware


def security_headers(config: ServerConfig):
    """An on_response_prepare hook: every response, errors and static files included."""

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if is_secure(request, config):
            response.headers["Strict-Transport-Security"] = HSTS

    return add_headers
