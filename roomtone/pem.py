"""RSA keys in PEM text: the server's public keys, the bot's (and `roomtone token`'s) private key.

Only RSA of at least 2048 bits is accepted (RS256). `.env` files often carry a
PEM on one line with literal `\\n` between lines, so that form is read too.
"""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from roomtone.variables import ConfigError, Kind

MIN_RSA_BITS = 2048
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


def public_keys(text: str, name: str) -> tuple[RSAPublicKey, ...]:
    """Every PEM block in `text` as an RSA public key; ConfigError(name) for any other."""
    keys = []
    for block in _PEM_BLOCK.findall(_unescape(text)):
        try:
            key = load_pem_public_key(block.encode())
        except ValueError:
            raise ConfigError(name, "holds a PEM block that is not a public key") from None
        if not isinstance(key, RSAPublicKey):
            raise ConfigError(name, "only RSA public keys are accepted (RS256)")
        if key.key_size < MIN_RSA_BITS:
            raise ConfigError(name, f"RSA key of {key.key_size} bits; at least 2048 needed")
        keys.append(key)
    return tuple(keys)


def private_key(text: str, name: str) -> RSAPrivateKey:
    """An unencrypted RSA private key of at least 2048 bits; ConfigError(name) otherwise."""
    try:
        key = load_pem_private_key(_unescape(text).strip().encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(name, "is not an unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise ConfigError(name, "must be an RSA private key of at least 2048 bits")
    return key


class PublicKeys(Kind):
    """Several public keys; those of NAME and NAME_FILE are all trusted."""

    metavar = "PEM"
    joins_file = True

    def parse(self, text: str, name: str) -> tuple[RSAPublicKey, ...]:
        return public_keys(text, name)

    def join(self, values: list[Any]) -> tuple[RSAPublicKey, ...]:
        return tuple(key for keys in values for key in keys)

    def show(self, value: Any) -> str:
        return ""  # keys are never written back


class PrivateKey(Kind):
    metavar = "PEM"

    def parse(self, text: str, name: str) -> RSAPrivateKey:
        return private_key(text, name)

    def show(self, value: Any) -> str:
        return ""
