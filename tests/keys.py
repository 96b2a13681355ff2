"""RSA key pairs and JWTs for auth tests, generated once per test session."""

from __future__ import annotations

import functools
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def private_key(name: str = "main", bits: int = 2048) -> rsa.RSAPrivateKey:
    return _generate(name, bits)


@functools.cache
def _generate(name: str, bits: int) -> rsa.RSAPrivateKey:
    # cached on the normalised (name, bits) so every caller sees the same pair
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(name: str = "main", bits: int = 2048) -> str:
    return (
        private_key(name, bits)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(name: str = "main") -> str:
    return (
        private_key(name)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def make_token(name: str = "main", ttl: float = 600, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": "tester", "iat": now, "exp": now + ttl, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, private_key(name), algorithm="RS256")
