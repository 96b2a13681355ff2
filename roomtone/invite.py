"""Invite links: RS256 JWTs signed with the operator's private key.

The server only holds public keys, so whoever holds `roomtone.key` (the bot, or
an operator with `roomtone token`) is the only one who can let people in. This
module is shared by the bot and the `roomtone token` subcommand so both mint
exactly the same kind of token.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from roomtone.bot.config import BotConfig
from roomtone.pem import private_key
from roomtone.variables import ConfigError, find

ALGORITHM = "RS256"
KEY_BITS = 4096
PRIVATE_KEY_NAME = "roomtone.key"
PUBLIC_KEY_NAME = "roomtone.pub"
DEFAULT_CLI_TTL = 3600
DEFAULT_CLI_SUBJECT = "roomtone-cli"
DEFAULT_CLI_ISSUER = "roomtone-token"
MAX_TTL = 30 * 24 * 3600


def mint_token(
    key: RSAPrivateKey, subject: str, ttl_seconds: int, issuer: str, now: float | None = None
) -> str:
    """A token the server accepts until `now + ttl_seconds`."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": subject, "iss": issuer, "iat": issued, "exp": issued + int(ttl_seconds)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def invite_url(base_url: str, token: str) -> str:
    """`base_url?token=JWT`, keeping any path or query the base already has."""
    parts = urlsplit(base_url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment)
    )


def generate_key_pair(directory: Path, bits: int = KEY_BITS) -> tuple[Path, Path]:
    """Write `roomtone.key` (0600) and `roomtone.pub` into `directory`; never overwrite."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / PRIVATE_KEY_NAME
    public_path = directory / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists; refusing to overwrite a key")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Created with 0600 from the start: the private key is never readable by others.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    public_path.chmod(0o644)
    return private_path, public_path


def load_key_file(path: str, option: str = "--key") -> RSAPrivateKey:
    """Load a PEM private key, reporting problems against the CLI option."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(option, f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise ConfigError(option, f"{path} is empty")
    return private_key(text, option)


def add_token_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "token",
        help="mint an invite link, or generate the key pair",
        description="Print a presigned invite URL (PUBLIC_BASE_URL?token=JWT) signed with the "
        "private key, or generate a 4096-bit RSA key pair for the server and the bot.",
    )
    parser.add_argument(
        "--key",
        metavar="FILE",
        help="PEM RSA private key [default: env BOT_JWT_PRIVATE_KEY(_FILE)]",
    )
    parser.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_CLI_TTL,
        metavar="SECONDS",
        help=f"how long the link works [default: {DEFAULT_CLI_TTL}]",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="the call's URL [default: env PUBLIC_BASE_URL]"
    )
    parser.add_argument(
        "--subject",
        default=DEFAULT_CLI_SUBJECT,
        metavar="S",
        help=f"the token's `sub` (who it is for) [default: {DEFAULT_CLI_SUBJECT}]",
    )
    parser.add_argument(
        "--issuer",
        default=DEFAULT_CLI_ISSUER,
        metavar="S",
        help=f"the token's `iss` [default: {DEFAULT_CLI_ISSUER}]",
    )
    parser.add_argument(
        "--generate-keys",
        metavar="DIR",
        help=f"write {PRIVATE_KEY_NAME} (0600) and {PUBLIC_KEY_NAME} into DIR and exit",
    )
    parser.set_defaults(func=run_token)


def run_token(args: argparse.Namespace, env: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if env is None else env
    if args.generate_keys:
        try:
            private_path, public_path = generate_key_pair(Path(args.generate_keys))
        except (FileExistsError, OSError) as exc:
            raise ConfigError("--generate-keys", str(exc)) from None
        print(f"private key: {private_path} (keep secret; give it to the bot)")
        print(f"public key:  {public_path} (set AUTH_PUBLIC_KEYS_FILE on the server)")
        return 0
    if not 1 <= args.ttl <= MAX_TTL:
        raise ConfigError("--ttl", f"must be in 1-{MAX_TTL} seconds (got {args.ttl})")
    base_url = (args.base_url or env.get("PUBLIC_BASE_URL", "")).strip()
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("--base-url", "or PUBLIC_BASE_URL must be the call's http(s) URL")
    if args.key:
        key = load_key_file(args.key)
    else:
        # The bot's signing key variable, read the way the bot reads it.
        key = find(BotConfig, "BOT_JWT_PRIVATE_KEY").read(env)
        if key is None:
            raise ConfigError("--key", "is required (or set BOT_JWT_PRIVATE_KEY(_FILE))")
    print(invite_url(base_url, mint_token(key, args.subject, args.ttl, args.issuer)))
    return 0
