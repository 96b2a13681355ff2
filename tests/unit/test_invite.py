"""Invite tokens, URLs, key generation and the `roomtone token` subcommand."""

from __future__ import annotations

import stat
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from roomtone.auth import verify_token
from roomtone.cli import EXIT_CONFIG, main
from roomtone.config import AuthConfig
from roomtone.invite import generate_key_pair, invite_url, mint_token
from tests.keys import private_key, private_pem, public_pem


def test_minted_token_is_accepted_by_the_server_verifier():
    key = private_key("invite")
    token = mint_token(key, "42", 300, "roomtone-telegram", now=time.time())
    claims = verify_token(token, AuthConfig(enabled=True, public_keys=(key.public_key(),)))
    assert claims["sub"] == "42" and claims["iss"] == "roomtone-telegram"
    assert claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


@pytest.mark.parametrize(
    ("base", "expected_prefix"),
    [
        ("https://call.example", "https://call.example/?token="),
        ("https://call.example/", "https://call.example/?token="),
        ("https://call.example/room/", "https://call.example/room/?token="),
        ("https://call.example/?lang=en", "https://call.example/?lang=en&token="),
        ("https://call.example/?token=old", "https://call.example/?token="),
    ],
)
def test_invite_url(base, expected_prefix):
    url = invite_url(base, "a.b.c")
    assert url.startswith(expected_prefix)
    assert parse_qs(urlsplit(url).query)["token"] == ["a.b.c"]


def test_generate_key_pair(tmp_path):
    private_path, public_path = generate_key_pair(tmp_path / "keys", bits=2048)
    assert private_path.name == "roomtone.key" and public_path.name == "roomtone.pub"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    key = load_pem_private_key(private_path.read_bytes(), password=None)
    public = load_pem_public_key(public_path.read_bytes())
    assert key.public_key().public_numbers() == public.public_numbers()
    with pytest.raises(FileExistsError):
        generate_key_pair(tmp_path / "keys", bits=2048)


def test_cli_generates_a_4096_bit_pair(tmp_path, capsys):
    assert main(["token", "--generate-keys", str(tmp_path)]) == 0
    key = load_pem_private_key((tmp_path / "roomtone.key").read_bytes(), password=None)
    assert key.key_size == 4096
    assert "AUTH_PUBLIC_KEYS_FILE" in capsys.readouterr().out
    assert main(["token", "--generate-keys", str(tmp_path)]) == EXIT_CONFIG  # no overwrite


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "roomtone.key"
    path.write_text(private_pem("invite"))
    return path


def test_cli_prints_a_presigned_url(key_file, capsys, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    argv = ["token", "--key", str(key_file), "--ttl", "60", "--base-url", "https://call.example"]
    assert main([*argv, "--subject", "guest"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://call.example/?token=")
    token = parse_qs(urlsplit(url).query)["token"][0]
    claims = jwt.decode(token, private_key("invite").public_key(), algorithms=["RS256"])
    assert claims["sub"] == "guest" and claims["exp"] - claims["iat"] == 60


def test_cli_uses_the_environment(key_file, capsys, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://env.example")
    monkeypatch.setenv("BOT_JWT_PRIVATE_KEY_FILE", str(key_file))
    monkeypatch.delenv("BOT_JWT_PRIVATE_KEY", raising=False)
    assert main(["token"]) == 0
    url = capsys.readouterr().out.strip()
    claims = jwt.decode(
        parse_qs(urlsplit(url).query)["token"][0],
        private_key("invite").public_key(),
        algorithms=["RS256"],
    )
    assert url.startswith("https://env.example/?token=")
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--ttl", "0"], "--ttl"),
        (["--key", "/nonexistent/roomtone.key"], "--key"),
        (["--base-url", "call.example"], "--base-url"),
    ],
)
def test_cli_errors_name_the_option(key_file, capsys, monkeypatch, extra, named):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    argv = ["token", "--key", str(key_file), "--base-url", "https://call.example", *extra]
    assert main(argv) == EXIT_CONFIG
    assert named in capsys.readouterr().err


def test_cli_refuses_a_public_key_as_private(tmp_path, capsys):
    public = tmp_path / "roomtone.pub"
    public.write_text(public_pem("invite"))
    argv = ["token", "--key", str(public), "--base-url", "https://call.example"]
    assert main(argv) == EXIT_CONFIG
    assert "--key" in capsys.readouterr().err
