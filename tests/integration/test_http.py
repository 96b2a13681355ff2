"""HTTP surface over a real socket: health, HTTPS enforcement, headers, auth cookie, SPA.

The server runs in-process on a free loopback port so a test-only middleware
can make a request appear to come from a non-loopback peer (no traffic ever
leaves loopback).
"""

from __future__ import annotations

import json
import time

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from roomtone.app import create_app
from roomtone.config import load_server_config
from tests.keys import make_token, public_pem

REMOTE = "203.0.113.7"  # TEST-NET-3: never contacted, only written into request.remote


@web.middleware
async def simulated_peer(request: web.Request, handler):
    peer = request.headers.get("X-Test-Peer")
    if peer:
        request = request.clone(remote=peer)
    return await handler(request)


async def start(env: dict[str, str]) -> TestClient:
    # webrtc mode: these tests are about HTTP, not about a media transport
    app = create_app(load_server_config({"MEDIA_TRANSPORT": "webrtc", **env}))
    app.middlewares.insert(0, simulated_peer)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def web_root(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Roomtone</title>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log('hi')")
    return tmp_path


@pytest.fixture
async def client(web_root):
    client = await start({"WEB_ROOT": str(web_root)})
    yield client
    await client.close()


async def test_health_is_open_even_to_remote_plain_http(client):
    response = await client.get("/health", headers={"X-Test-Peer": REMOTE})
    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_remote_plain_http_refused(client):
    for path in ("/", "/participants", "/ws", "/some/page"):
        response = await client.get(path, headers={"X-Test-Peer": REMOTE})
        assert response.status == 400, path
        assert await response.text() == "HTTPS is required."
    response = await client.post("/logs", data=b'{"event":"x"}', headers={"X-Test-Peer": REMOTE})
    assert response.status == 400


async def test_loopback_is_exempt_and_gets_no_hsts(client):
    response = await client.get("/")
    assert response.status == 200
    assert "Strict-Transport-Security" not in response.headers


async def test_security_headers_everywhere(client):
    for path in ("/", "/health", "/participants", "/ws", "/assets/app-1234.js"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_allow_insecure_http_lets_remote_in(web_root):
    client = await start({"WEB_ROOT": str(web_root), "ALLOW_INSECURE_HTTP": "true"})
    try:
        response = await client.get("/", headers={"X-Test-Peer": REMOTE})
        assert response.status == 200
    finally:
        await client.close()


async def test_trusted_proxy_https_and_hsts(web_root):
    client = await start({"WEB_ROOT": str(web_root), "TRUST_PROXY": "true"})
    try:
        via_proxy = {"X-Test-Peer": REMOTE, "X-Forwarded-Proto": "https"}
        response = await client.get("/", headers=via_proxy)
        assert response.status == 200
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        # the proxy (loopback) forwards a remote client over plain http: refused
        response = await client.get(
            "/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": REMOTE}
        )
        assert response.status == 400
        # a loopback proxy forwarding a loopback client: exempt
        response = await client.get("/", headers={"X-Forwarded-For": "127.0.0.1"})
        assert response.status == 200
    finally:
        await client.close()


async def test_forwarded_proto_ignored_without_trust_proxy(client):
    response = await client.get("/", headers={"X-Test-Peer": REMOTE, "X-Forwarded-Proto": "https"})
    assert response.status == 400


async def test_ws_without_upgrade_is_426_with_proxy_hint(client):
    response = await client.get("/ws")
    assert response.status == 426
    assert "Upgrade" in await response.text() and "proxy" in await response.text()


async def test_spa_fallback_and_assets(client):
    response = await client.get("/rooms/whatever?x=1")
    assert response.status == 200 and "<title>Roomtone" in await response.text()
    assert response.headers["Cache-Control"] == "no-cache"
    response = await client.get("/assets/app-1234.js")
    assert "immutable" in response.headers["Cache-Control"]
    response = await client.get("/../../../../etc/passwd")
    assert "root:" not in await response.text()
    response = await client.get("/assets/%2e%2e/%2e%2e/pyproject.toml")
    assert "[project]" not in await response.text()


async def test_503_page_when_client_not_built(tmp_path):
    client = await start({"WEB_ROOT": str(tmp_path)})
    try:
        response = await client.get("/", headers={"Accept": "text/html"})
        assert response.status == 503
        assert "not built" in await response.text()
        assert (await client.get("/health")).status == 200
    finally:
        await client.close()


async def test_participants_and_config(client):
    assert await (await client.get("/participants")).json() == []
    config = await (await client.get("/config")).json()
    assert config == {"mediaTransport": "webrtc", "maxParticipants": 10, "authEnabled": False}


async def test_logs_validation_truncation_redaction(client, capsys):
    event = {
        "event": "media-error",
        "detail": "x" * 5000,
        "url": "https://call.example/?token=eyJhbGci.secret&name=Alice&x=1",
        "ts": "forged",
    }
    response = await client.post("/logs", data=json.dumps(event))
    assert response.status == 204
    line = [ln for ln in capsys.readouterr().out.splitlines() if "media-error" in ln][-1]
    record = json.loads(line)
    assert record["source"] == "client" and record["event"] == "media-error"
    assert record["url"] == "https://call.example/?token=redacted&name=redacted&x=1"
    assert len(record["detail"]) < 1100 and record["detail"].endswith("[truncated]")
    assert record["ts"] != "forged"
    assert "secret" not in line and "Alice" not in line

    for body, reason in (
        (b"not json", "JSON"),
        (b"[1,2]", "object"),
        (b'{"detail":"no event"}', "event"),
        (b'{"event": 5}', "event"),
        (json.dumps({"event": "big", "pad": "y" * 40000}).encode(), "large"),
        (json.dumps({"event": "<script>alert(1)</script>" * 5}).encode(), "longer"),
    ):
        response = await client.post("/logs", data=body)
        assert response.status == 400
        assert response.content_type == "text/plain"
        text = await response.text()
        assert reason in text and "<script>" not in text


# --- auth -------------------------------------------------------------------------


@pytest.fixture
async def auth_client(web_root):
    client = await start(
        {
            "WEB_ROOT": str(web_root),
            "AUTH_ENABLED": "true",
            "AUTH_PUBLIC_KEYS": public_pem("main") + public_pem("second"),
            "TRUST_PROXY": "true",
        }
    )
    yield client
    await client.close()


async def test_auth_refuses_without_token(auth_client):
    response = await auth_client.get("/participants")
    assert response.status == 401
    assert response.content_type == "text/plain"
    response = await auth_client.get("/", headers={"Accept": "text/html,*/*"})
    assert response.status == 401 and response.content_type == "text/html"
    assert "Invitation needed" in await response.text()
    assert (await auth_client.get("/health")).status == 200


async def test_query_token_sets_cookie_then_cookie_works(auth_client):
    token = make_token(ttl=600)
    response = await auth_client.get(f"/?token={token}")
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"roomtone_auth={token}")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 590 <= max_age <= 600
    # the client's cookie jar now carries it
    assert (await auth_client.get("/participants")).status == 200
    # the page learns that its address is no invitation (it offers no "copy link")
    assert (await (await auth_client.get("/config")).json())["authEnabled"] is True


async def test_cookie_secure_on_https_and_from_header(auth_client):
    response = await auth_client.get(
        "/participants",
        headers={
            "Authorization": f"Bearer {make_token('second')}",
            "X-Forwarded-Proto": "https",
        },
    )
    assert response.status == 200
    assert "Secure" in response.headers["Set-Cookie"]


async def test_invalid_cookie_is_cleared(auth_client):
    expired = make_token(ttl=-120)
    response = await auth_client.get(
        "/participants", headers={"Cookie": f"roomtone_auth={expired}"}
    )
    assert response.status == 401
    assert "expired" in await response.text()
    cleared = response.headers["Set-Cookie"]
    assert cleared.startswith('roomtone_auth=""') and "Max-Age=0" in cleared


async def test_forged_tokens_refused_over_http(auth_client):
    header, payload, signature = make_token().split(".")
    for token in (make_token("stranger"), f"{header}.{payload}x.{signature}", "garbage"):
        assert (await auth_client.get(f"/participants?token={token}")).status == 401


async def test_ws_handshake_checked(auth_client):
    ws = await auth_client.ws_connect("/ws")
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.TEXT and "Unauthorized" in json.loads(msg.data)["message"]
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE and ws.close_code == 1008
    ws = await auth_client.ws_connect(f"/ws?token={make_token()}")
    await ws.send_json({"type": "join", "name": "Alice"})
    for _ in range(5):
        message = json.loads((await ws.receive(timeout=5)).data)
        if message["type"] == "welcome":
            break
    assert message["type"] == "welcome"
    await ws.close()
    assert time.time()
