"""RS256 JWT authentication for every request and the WebSocket handshake.

Only RS256 is accepted (no `none`, no HMAC keyed with a public key), `exp` is
required, `nbf`/`iat` may not lie in the future beyond the allowed skew. A
token presented in the query or an Authorization header is turned into an
HttpOnly cookie that expires with it, so invite links work once and the token
can be removed from the address bar.
"""

from __future__ import annotations

import html
import time
from typing import Any

import jwt
from aiohttp import web

from roomtone.config import AuthConfig, ServerConfig
from roomtone.errors import UNAUTHORIZED, error
from roomtone.protocol import CLOSE_UNAUTHORIZED
from roomtone.security import is_secure

ALGORITHM = "RS256"
OPEN_PATHS = frozenset({"/health"})


class AuthError(Exception):
    """The token is missing or not acceptable; the message is safe to show."""


def verify_token(token: str, config: AuthConfig) -> dict[str, Any]:
    """Return the claims of a valid token, else raise AuthError."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthError("Malformed token.") from None
    if header.get("alg") != ALGORITHM:
        raise AuthError("Token algorithm not allowed.")
    for key in config.public_keys:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                leeway=config.clock_skew_seconds,
                options={"require": ["exp"], "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            continue  # try the next key
        except jwt.ExpiredSignatureError:
            raise AuthError("Token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("Token is not valid yet.") from None
        except jwt.MissingRequiredClaimError:
            raise AuthError("Token has no expiry.") from None
        except jwt.PyJWTError:
            raise AuthError("Invalid token.") from None
    raise AuthError("Token signature is not trusted.")


def find_token(request: web.BaseRequest, cookie_name: str) -> tuple[str | None, str]:
    """The presented token and where it came from: query, header, cookie or none."""
    token = request.query.get("token", "").strip()
    if token:
        return token, "query"
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return authorization[7:].strip(), "header"
    cookie = request.cookies.get(cookie_name, "").strip()
    if cookie:
        return cookie, "cookie"
    return None, "none"


def wants_html(request: web.BaseRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def is_websocket_upgrade(request: web.BaseRequest) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


UNAUTHORIZED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invitation needed</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">
<h1>Invitation needed</h1>
<p>This call is private. Open the invite link you were sent; if it stopped working,
ask for a new one.</p>
<p><small>{reason}</small></p>
</body></html>
"""


def unauthorized(request: web.BaseRequest, reason: str, clear_cookie: str | None) -> web.Response:
    if wants_html(request):
        response = web.Response(
            status=401,
            text=UNAUTHORIZED_PAGE.format(reason=html.escape(reason)),
            content_type="text/html",
        )
    else:
        response = web.Response(status=401, text=f"Unauthorized: {reason}")
    if clear_cookie:
        response.del_cookie(clear_cookie, path="/")
    return response


def set_auth_cookie(
    response: web.StreamResponse, config: AuthConfig, secure: bool, token: str, claims: dict
) -> None:
    max_age = max(0, int(claims["exp"] - time.time()))
    response.set_cookie(
        config.cookie_name,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def auth_middleware(server_config: ServerConfig):
    config = server_config.auth

    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.path in OPEN_PATHS:
            return await handler(request)
        token, source = find_token(request, config.cookie_name)
        has_cookie = config.cookie_name in request.cookies
        try:
            if token is None:
                raise AuthError("No token was presented.")
            claims = verify_token(token, config)
        except AuthError as exc:
            if is_websocket_upgrade(request) and request.path == "/ws":
                # Browsers cannot read a refused handshake's status, so accept and close 1008.
                return await refuse_websocket(request, str(exc))
            return unauthorized(request, str(exc), config.cookie_name if has_cookie else None)
        response = await handler(request)
        if source in ("query", "header") and not response.prepared:
            secure = is_secure(request, server_config)
            set_auth_cookie(response, config, secure, token, claims)
        return response

    return middleware


async def refuse_websocket(request: web.Request, reason: str) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json(error(UNAUTHORIZED.format(reason=reason)))
    await ws.close(code=CLOSE_UNAUTHORIZED.code, message=CLOSE_UNAUTHORIZED.reason_bytes)
    return ws
