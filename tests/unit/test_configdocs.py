"""The variable declarations are the one source: the committed `.env.example`, README's
table and docs/TELEGRAM_BOT.md's table are what they generate, and the declared defaults
survive being written out and read back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roomtone import configdocs
from roomtone.bot.config import BotConfig
from roomtone.config import ServerConfig
from roomtone.variables import declared
from tests.keys import private_pem


def test_committed_files_are_generated_from_the_declarations():
    stale = [str(p.relative_to(configdocs.ROOT)) for p in configdocs.stale_files()]
    assert not stale, f"run `python -m roomtone.configdocs` to update {stale}"


@pytest.mark.parametrize("config_class", [ServerConfig, BotConfig])
def test_names_are_unique_and_shown_defaults_read_back(config_class):
    names = [variable.name for _, variable in declared(config_class)]
    assert len(names) == len(set(names))
    for _, variable in declared(config_class):
        if variable.default_text:  # what --help and .env.example show is the default
            assert variable.kind.parse(variable.default_text, variable.name) == variable.default


def test_shared_variables_agree():
    server = {v.name: v for _, v in declared(ServerConfig)}
    for _, variable in declared(BotConfig):
        if variable.name in server:
            assert variable.default_text == server[variable.name].default_text


def test_every_variable_has_a_flag_in_help():
    for command, config_class in (("serve", ServerConfig), ("bot", BotConfig)):
        result = subprocess.run(
            [sys.executable, "-m", "roomtone", command, "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        )
        text = " ".join(result.stdout.split())
        for _, variable in declared(config_class):
            assert f"[env {variable.name}," in text, variable.name
            if variable.file_name:
                assert f"[env {variable.file_name}," in text


def test_bot_flag_overrides_the_variable(tmp_path):
    key_file = tmp_path / "bot.key"
    key_file.write_text(private_pem("bot"))
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "t",
        "PUBLIC_BASE_URL": "https://call.example",
        "BOT_JWT_PRIVATE_KEY_FILE": str(key_file),
        "BOT_COMMAND": "/invite",
    }
    result = subprocess.run(
        [sys.executable, "-m", "roomtone", "bot", "--bot-command", "not a command"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "roomtone: configuration error: BOT_COMMAND: must be a Telegram command like /invite"
    ]
