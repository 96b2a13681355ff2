"""Token verification: RS256 only, exp required, nbf/iat with skew, several keys."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from roomtone.auth import AuthError, verify_token
from roomtone.config import load_server_config
from tests.keys import make_token, public_pem


@pytest.fixture(scope="module")
def auth():
    keys = public_pem("main") + public_pem("second")
    return load_server_config({"AUTH_ENABLED": "true", "AUTH_PUBLIC_KEYS": keys}).auth


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_tokens_from_either_key(auth):
    assert verify_token(make_token("main"), auth)["sub"] == "tester"
    assert verify_token(make_token("second"), auth)["sub"] == "tester"


def test_alg_none_refused(auth):
    now = int(time.time())
    token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({"exp": now + 60}) + "."
    with pytest.raises(AuthError, match="algorithm"):
        verify_token(token, auth)


def test_hs256_keyed_with_public_key_refused(auth):
    now = int(time.time())
    # PyJWT refuses to HMAC with a PEM key, so forge the token by hand.
    import hashlib
    import hmac

    header, body = _b64({"alg": "HS256", "typ": "JWT"}), _b64({"exp": now + 60})
    signing_input = f"{header}.{body}".encode()
    mac = hmac.new(public_pem("main").encode(), signing_input, hashlib.sha256).digest()
    token = f"{header}.{body}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="algorithm"):
        verify_token(token, auth)


def test_foreign_key_refused(auth):
    with pytest.raises(AuthError, match="not trusted"):
        verify_token(make_token("stranger"), auth)


def test_tampered_payload_refused(auth):
    header, _, signature = make_token("main").split(".")
    forged = _b64({"sub": "admin", "exp": int(time.time()) + 9999})
    with pytest.raises(AuthError):
        verify_token(f"{header}.{forged}.{signature}", auth)


def test_expired_refused_beyond_skew(auth):
    with pytest.raises(AuthError, match="expired"):
        verify_token(make_token(ttl=-60), auth)
    # within the 30 s skew it is still accepted
    assert verify_token(make_token(ttl=-10), auth)


def test_future_nbf_and_iat_refused(auth):
    future = int(time.time()) + 300
    with pytest.raises(AuthError, match="not valid yet"):
        verify_token(make_token(nbf=future), auth)
    with pytest.raises(AuthError, match="not valid yet"):
        verify_token(make_token(iat=future), auth)


def test_missing_exp_refused(auth):
    token = make_token(exp=None)
    assert "exp" not in jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(AuthError, match="expiry"):
        verify_token(token, auth)


def test_garbage_refused(auth):
    for junk in ("", "abc", "a.b.c", "🙂.🙂.🙂"):
        with pytest.raises(AuthError):
            verify_token(junk, auth)
