"""The documents derived from the variable declarations: `.env.example` and the tables.

`python -m roomtone.configdocs` rewrites `.env.example`, the server table in
README.md and the bot table in docs/TELEGRAM_BOT.md (between their
`<!-- variables:... -->` markers); `--check` only reports what is stale.
tests/unit/test_configdocs.py fails when a committed copy is out of date.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from roomtone.bot.config import BotConfig
from roomtone.config import ServerConfig
from roomtone.variables import Variable, declared

ROOT = Path(__file__).resolve().parent.parent
CONFIGS: tuple[type, ...] = (ServerConfig, BotConfig)

ENV_PREAMBLE = """\
# Roomtone configuration: copy to .env and edit. Every variable is listed with its
# default; an empty value means "not set". `roomtone serve` and docker compose
# read the same names (docs/DEPLOY.md). PEM values may be written on one line
# with literal \\n between lines.
#
# Generated from roomtone/config.py and roomtone/bot/config.py by
# `python -m roomtone.configdocs`; change the declarations there, not this file.
"""


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, 86, initial_indent="# ", subsequent_indent="# ")


def env_example() -> str:
    """Every variable of the server and the bot with its default (or example) value."""
    lines = [ENV_PREAMBLE.rstrip("\n")]
    section = None
    written: set[str] = set()
    for config_class in CONFIGS:
        for owner, declaration in declared(config_class):
            if declaration.name in written:
                continue  # shared by server and bot (LOG_LEVEL): listed once
            written.add(declaration.name)
            if owner.SECTION != section:
                section = owner.SECTION
                lines += ["", f"# --- {section} ".ljust(88, "-")]
            help = declaration.help + (" (required)" if declaration.required else "")
            lines += _comment(help)
            if declaration.note:
                lines += _comment(declaration.note)
            value = declaration.default_text if declaration.example is None else declaration.example
            lines.append(f"{declaration.name}={value}")
            if declaration.file_name:
                lines += _comment(declaration.file_help)
                lines.append(f"{declaration.file_name}=")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default_cell(declaration: Variable) -> str:
    if declaration.required:
        return "required"
    text = declaration.default_text
    return f"`{text}`" if text else "empty"


def table(config_class: type) -> str:
    """A Markdown table of `config_class`'s variables: name, default, meaning."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for _, declaration in declared(config_class):
        rows.append(
            f"| `{declaration.name}` | {_default_cell(declaration)} | {_cell(declaration.help)} |"
        )
        if declaration.file_name:
            rows.append(f"| `{declaration.file_name}` | empty | {_cell(declaration.file_help)} |")
    return "\n".join(rows) + "\n"


#: (file, marker name, config class): the tables kept inside Markdown documents
TABLES: tuple[tuple[str, str, type], ...] = (
    ("README.md", "server", ServerConfig),
    ("docs/TELEGRAM_BOT.md", "bot", BotConfig),
)


def with_table(document: str, marker: str, body: str) -> str:
    """`document` with the text between `<!-- variables:MARKER -->` and `<!-- /variables -->`
    replaced by `body`; ValueError if the markers are missing."""
    pattern = re.compile(rf"(<!-- variables:{marker} [^>]*-->\n)(.*?)(<!-- /variables -->)", re.S)
    if not pattern.search(document):
        raise ValueError(f"no <!-- variables:{marker} ... --> block")
    return pattern.sub(lambda m: m[1] + body + m[3], document, count=1)


def expected_files(root: Path = ROOT) -> dict[Path, str]:
    """Each derived file with the content it should have now."""
    files = {root / ".env.example": env_example()}
    for name, marker, config_class in TABLES:
        path = root / name
        current = files.get(path, path.read_text())
        files[path] = with_table(current, marker, table(config_class))
    return files


def stale_files(root: Path = ROOT) -> list[Path]:
    return [
        path
        for path, text in expected_files(root).items()
        if not path.exists() or path.read_text() != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    stale = stale_files()
    if "--check" in args:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python -m roomtone.configdocs)")
        return 1 if stale else 0
    for path, text in expected_files().items():
        if path in stale:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
