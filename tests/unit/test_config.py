"""Configuration parsing: defaults, every documented error, and the CLI's exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roomtone.bot.config import load_bot_config
from roomtone.config import (
    ConfigError,
    load_server_config,
    parse_ice_servers,
    parse_port_range,
)
from tests.keys import private_pem, public_pem


def test_defaults_match_design_table():
    config = load_server_config({})
    assert (config.host, config.port) == ("0.0.0.0", 5670)
    assert config.media_transport == "ws"
    assert config.max_participants == 10
    assert config.ws_max_payload == 1048576
    assert config.ice_transport_policy == "all"
    assert config.auth.cookie_name == "roomtone_auth"
    assert config.auth.clock_skew_seconds == 30
    assert config.wsrelay.cache_bytes == 8 * 1024 * 1024
    assert not config.allow_insecure_http and not config.trust_proxy and not config.auth.enabled


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MEDIA_TRANSPORT": "carrier-pigeon"}, "MEDIA_TRANSPORT"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"AUTH_ENABLED": "true"}, "AUTH_ENABLED"),
        ({"AUTH_ENABLED": "maybe"}, "AUTH_ENABLED"),
        ({"SFU_PORT_RANGE": "40000"}, "SFU_PORT_RANGE"),
        ({"SFU_PORT_RANGE": "40099-40000"}, "SFU_PORT_RANGE"),
        ({"SFU_ANNOUNCED_IP": "my.host"}, "SFU_ANNOUNCED_IP"),
        ({"ICE_TRANSPORT_POLICY": "none"}, "ICE_TRANSPORT_POLICY"),
        ({"ICE_SERVERS": "[not json"}, "ICE_SERVERS"),
        ({"ICE_SERVERS": "http://example.com"}, "ICE_SERVERS"),
        ({"MAX_PARTICIPANTS": "0"}, "MAX_PARTICIPANTS"),
        ({"WEB_ROOT": "/nonexistent/dir"}, "WEB_ROOT"),
        ({"AUTH_PUBLIC_KEYS": public_pem("small", 1024)}, "AUTH_PUBLIC_KEYS"),
        ({"AUTH_PUBLIC_KEYS_FILE": "/nonexistent.pem"}, "AUTH_PUBLIC_KEYS_FILE"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError) as caught:
        load_server_config(env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_ice_servers_forms():
    assert parse_ice_servers("stun:a.example:3478, turn:b.example") == (
        {"urls": "stun:a.example:3478"},
        {"urls": "turn:b.example"},
    )
    assert parse_ice_servers('{"urls":"turn:t","username":"u","credential":"c"}') == (
        {"urls": "turn:t", "username": "u", "credential": "c"},
    )
    assert parse_ice_servers('["stun:x", {"urls": ["turn:y"]}]') == (
        {"urls": "stun:x"},
        {"urls": ["turn:y"]},
    )
    assert parse_ice_servers("") == ()


def test_port_range_and_keys(tmp_path):
    assert parse_port_range("40000-40099") == (40000, 40099)
    key_file = tmp_path / "keys.pem"
    key_file.write_text(public_pem("a") + "\n" + public_pem("b"))
    config = load_server_config(
        {
            "AUTH_ENABLED": "true",
            "AUTH_PUBLIC_KEYS_FILE": str(key_file),
            # .env files carry PEMs on one line with literal \n
            "AUTH_PUBLIC_KEYS": public_pem("c").replace("\n", "\\n"),
        }
    )
    assert len(config.auth.public_keys) == 3


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MEDIA_TRANSPORT": "nope"}, "MEDIA_TRANSPORT"),
        ({"PORT": "abc"}, "PORT"),
        ({"AUTH_ENABLED": "true"}, "AUTH_ENABLED"),
        ({"SFU_PORT_RANGE": "a-b"}, "SFU_PORT_RANGE"),
    ],
)
def test_cli_exits_2_with_one_line(env, variable):
    result = subprocess.run(
        [sys.executable, "-m", "roomtone", "serve"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]


def test_flags_override_env_and_help_lists_variables():
    result = subprocess.run(
        [sys.executable, "-m", "roomtone", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    text = " ".join(result.stdout.split())
    for variable in (
        "PORT",
        "MEDIA_TRANSPORT",
        "AUTH_PUBLIC_KEYS",
        "SFU_PORT_RANGE",
        "TRUST_PROXY",
    ):
        assert f"env {variable}," in text
    bad_flag = subprocess.run(
        [sys.executable, "-m", "roomtone", "serve", "--port", "nope"],
        env={"PATH": "/usr/bin:/bin", "PORT": "5670"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad_flag.returncode == 2 and "PORT" in bad_flag.stderr


# --- the bot's variables (roomtone/bot/config.py) -------------------------------------------


def bot_env(tmp_path, **more: str) -> dict[str, str]:
    key_file = tmp_path / "bot.key"
    key_file.write_text(private_pem("bot"))
    return {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "PUBLIC_BASE_URL": "https://call.example/",
        "BOT_JWT_PRIVATE_KEY_FILE": str(key_file),
        **more,
    }


def test_bot_defaults_and_derived_values(tmp_path):
    config = load_bot_config(bot_env(tmp_path, TELEGRAM_ADMIN_USERNAMES="@Boss, x"))
    assert config.public_base_url == "https://call.example"
    assert config.server_url == "https://call.example"  # BOT_SERVER_URL defaults to it
    assert config.command == "/invite" and config.jwt_ttl_seconds == 300
    assert config.notify_chats is None and config.admin_usernames == {"boss", "x"}
    assert config.jwt_private_key is not None and config.enabled


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
        ({"PUBLIC_BASE_URL": "call.example"}, "PUBLIC_BASE_URL"),
        ({"BOT_JWT_PRIVATE_KEY_FILE": ""}, "BOT_JWT_PRIVATE_KEY"),
        ({"BOT_JWT_PRIVATE_KEY_FILE": "/nonexistent.key"}, "BOT_JWT_PRIVATE_KEY_FILE"),
        ({"BOT_COMMAND": "/Invite me"}, "BOT_COMMAND"),
        ({"TELEGRAM_ALLOWED_USERS": "12,abc"}, "TELEGRAM_ALLOWED_USERS"),
        ({"BOT_JWT_TTL_SECONDS": "1"}, "BOT_JWT_TTL_SECONDS"),
        ({"BOT_ENABLED": "perhaps"}, "BOT_ENABLED"),
    ],
)
def test_bot_bad_values_name_the_variable(tmp_path, change, variable):
    with pytest.raises(ConfigError) as caught:
        load_bot_config(bot_env(tmp_path, **change))
    assert caught.value.variable == variable
