"""The Docker recipe, checked by reading it (no Docker engine here): ports and the SFU
range agree everywhere, the image runs as non-root with a health check, installs what
pyproject.toml declares, .env.example lists every variable, and the entrypoint
dispatches as documented."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from roomtone import config
from roomtone.bot.config import BotConfig
from roomtone.variables import declared, find

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
COMPOSE = (ROOT / "docker" / "compose.yaml").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(DOCKERFILE)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            assert name not in values, f"{name} listed twice"
            values[name.strip()] = value
    return values


def sfu_range() -> str:
    return env_example()["SFU_PORT_RANGE"]


def test_env_example_range_is_valid_and_used_everywhere():
    low, high = config.parse_port_range(sfu_range())
    assert high > low
    assert f"EXPOSE {low}-{high}/udp" in DOCKERFILE
    assert re.search(rf"^\s*SFU_PORT_RANGE={low}-{high}\b", DOCKERFILE, re.M)
    default = rf"\$\{{SFU_PORT_RANGE:-{low}-{high}\}}"
    # published with the same numbers on both sides, and given to the container
    assert re.search(rf'"{default}:{default}/udp"', COMPOSE)
    assert re.search(rf"SFU_PORT_RANGE: {default}", COMPOSE)


def test_http_port_exposed_published_and_checked():
    port = find(config.ServerConfig, "PORT").default_text
    assert f"EXPOSE {port}/tcp" in DOCKERFILE
    assert f'"{port}:{port}/tcp"' in COMPOSE
    assert f'PORT: "{port}"' in COMPOSE
    assert env_example()["PORT"] == port


def test_runs_as_non_root_user():
    users = [args for word, args in final_stage() if word == "USER"]
    assert users, "the final stage must set USER"
    assert users[-1] not in ("root", "0", "0:0")
    assert re.search(rf"useradd [^&]*\b{re.escape(users[-1])}\b", DOCKERFILE)


def test_healthcheck_probes_health_endpoint():
    checks = [args for word, args in final_stage() if word == "HEALTHCHECK"]
    assert len(checks) == 1 and "/health" in checks[0]
    assert "CMD" in checks[0] and "NONE" not in checks[0]
    # the probe itself is valid Python in the image (no curl in slim images)
    code = re.search(r'"-c", "(.+)"\]', checks[0])
    assert code is not None
    compile(code.group(1), "<healthcheck>", "exec")
    assert "healthcheck:\n      disable: true" in COMPOSE  # the bot has no web server


def test_install_steps_match_pyproject():
    stage = final_stage()
    base = stage[0][1]
    match = re.match(r"python:(\d+)\.(\d+)", base)
    assert match, base
    required = re.match(r">=\s*(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert required and tuple(map(int, match.groups())) >= tuple(map(int, required.groups()))
    copies = " ".join(args for word, args in stage if word == "COPY")
    # everything setuptools needs to build the package is in the image
    for needed in ("pyproject.toml", PYPROJECT["project"]["readme"], "roomtone/"):
        assert needed in copies, needed
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["roomtone"] == ["static/**/*"]
    assert "--from=web /src/roomtone/static/ roomtone/static/" in copies
    runs = " ".join(args for word, args in stage if word == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)  # the package itself, no extras
    assert PYPROJECT["project"]["scripts"]["roomtone"] == "roomtone.cli:main"
    assert "exec roomtone " in ENTRYPOINT.read_text()


def test_web_stage_builds_into_the_package():
    steps = instructions(DOCKERFILE)
    assert steps[0][0] == "FROM" and steps[0][1].startswith("node:")
    node = int(re.match(r"node:(\d+)", steps[0][1]).group(1))
    engines = (ROOT / "web" / "package.json").read_text()
    wanted = re.search(r'"node":\s*">=(\d+)', engines)
    if wanted:
        assert node >= int(wanted.group(1))
    runs = [args for word, args in steps if word == "RUN"]
    assert any("npm ci" in r for r in runs) and any("npm run build" in r for r in runs)
    vite = (ROOT / "web" / "vite.config.ts").read_text()
    assert re.search(r"outDir:\s*'../roomtone/static'", vite)
    assert (ROOT / "web" / "package-lock.json").exists()  # npm ci needs it


def names(config_class: type) -> set[str]:
    found = set()
    for _, variable in declared(config_class):
        found |= {variable.name, variable.file_name} - {""}
    return found


def test_env_example_lists_every_variable_with_its_default():
    listed = env_example()
    for _, variable in declared(config.ServerConfig):
        name = variable.name
        assert name in listed, f"{name} missing from .env.example"
        if name != "SFU_PORT_RANGE":  # the one value Docker needs fixed
            default = variable.default_text
            assert listed[name] == default, f"{name}: {listed[name]!r} != default {default!r}"
    bot_names = names(BotConfig)
    assert {"TELEGRAM_BOT_TOKEN", "BOT_JWT_PRIVATE_KEY_FILE", "BOT_STATE_FILE"} <= bot_names
    missing = sorted(bot_names - set(listed))
    assert not missing, f"missing from .env.example: {missing}"
    unknown = set(listed) - names(config.ServerConfig) - bot_names
    assert not unknown, f"not read by roomtone: {sorted(unknown)}"


def test_env_example_is_a_valid_server_config():
    cfg = config.load_server_config(env_example())
    assert cfg.port == 5670 and cfg.media_transport == "ws"
    assert cfg.sfu.port_range == config.parse_port_range(sfu_range())


def test_compose_wiring():
    assert "env_file: ../.env" in COMPOSE
    assert "dockerfile: docker/Dockerfile" in COMPOSE and "context: .." in COMPOSE
    bot = COMPOSE[COMPOSE.index("\n  bot:") :]
    assert 'profiles: ["bot"]' in bot and 'command: ["bot"]' in bot
    assert "bot-state:/data" in bot and "BOT_STATE_FILE: /data/" in bot
    assert re.search(r"^volumes:\n  bot-state:", COMPOSE, re.M)
    assert "BOT_STATE_FILE=/data/" in DOCKERFILE


def run_entrypoint(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "roomtone"
    fake.write_text('#!/bin/sh\necho "roomtone $*"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    path = f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=10,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_entrypoint_dispatch(tmp_path):
    assert os.access(ENTRYPOINT, os.X_OK)
    assert run_entrypoint(tmp_path).stdout == "roomtone serve\n"
    assert run_entrypoint(tmp_path, "bot").stdout == "roomtone bot\n"
    assert run_entrypoint(tmp_path, "--version").stdout == "roomtone --version\n"
    loadtest = run_entrypoint(tmp_path, "loadtest", "--mode", "ws")
    assert loadtest.stdout == "roomtone loadtest --mode ws\n"
    assert run_entrypoint(tmp_path, "echo", "hi").stdout == "hi\n"


def test_entrypoint_warns_about_sfu_without_announced_ip(tmp_path):
    warned = run_entrypoint(tmp_path, "serve", MEDIA_TRANSPORT="sfu")
    assert warned.returncode == 0 and "SFU_ANNOUNCED_IP" in warned.stderr
    quiet = run_entrypoint(tmp_path, "serve", MEDIA_TRANSPORT="sfu", SFU_ANNOUNCED_IP="203.0.113.7")
    assert quiet.stderr == "" and quiet.stdout == "roomtone serve\n"
