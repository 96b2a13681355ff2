"""docs/PROTOCOL.md against the code: message types, error texts and close codes.

The lists come from the code (protocol.py's registry, errors.py, the
transports' `messages`), and every module of the package is scanned for
message literals and inline error texts, so a message, text or close added
without documentation (or documented but gone) fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from roomtone import errors, protocol
from roomtone.sfu import SfuTransport
from roomtone.webrtcrelay import WebRtcRelay
from roomtone.wsrelay import WsRelay

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text()
PACKAGE = ROOT / "roomtone"
TRANSPORTS = (WsRelay, WebRtcRelay, SfuTransport)


def section(heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = DOC.index(heading + "\n") + len(heading)
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.M)
    end = following.search(DOC, start)
    return DOC[start : end.start() if end else len(DOC)]


def documented_types() -> dict[str, str]:
    row = re.compile(r"^\| `([a-z-]+)` \| (client|server|both) \|", re.M)
    return dict(row.findall(section("### Message index")))


def error_texts() -> set[str]:
    return {
        value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)
    }


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def test_message_index_matches_the_registry():
    documented = documented_types()
    sent_by_client = {t for t, who in documented.items() if who in ("client", "both")}
    sent_by_server = {t for t, who in documented.items() if who in ("server", "both")}
    assert sent_by_client == protocol.CLIENT_TYPES
    assert sent_by_server == protocol.SERVER_TYPES


def test_every_type_a_transport_handles_is_a_client_type():
    for transport in TRANSPORTS:
        assert transport.messages, transport
        assert transport.messages <= protocol.CLIENT_TYPES, transport
    assert set(errors.WRONG_MODE) <= protocol.CLIENT_TYPES
    handled = set().union(*(t.messages for t in TRANSPORTS))
    # Every mode-specific type is either handled or answered as another mode's.
    assert handled == set(errors.WRONG_MODE)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_message_literals_use_registered_types(path):
    """`{"type": "x", ...}` anywhere in the package must be a registered type.

    Session descriptions (`{"type": "offer", "sdp": ...}`) are not messages.
    """
    known = protocol.CLIENT_TYPES | protocol.SERVER_TYPES
    for node in ast.walk(ast.parse(path.read_text())):
        keys = {k.value for k in getattr(node, "keys", ()) if isinstance(k, ast.Constant)}
        if isinstance(node, ast.Dict) and "sdp" not in keys:
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    assert value.value in known, f"line {node.lineno}: {value.value!r}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_error_texts_come_from_errors_py(path):
    """`error("literal")` is not allowed: the text belongs in errors.py (and in the doc)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("error", "errors.error")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            pytest.fail(f"line {node.lineno}: inline error text {node.args[0].value!r}")


def test_error_table_lists_exactly_the_texts_of_errors_py():
    documented = set(re.findall(r"^\| `(.+?)` \|", section("## Errors"), re.M))
    assert documented == error_texts()


def test_close_table_lists_exactly_the_server_closes():
    row = re.compile(r"^\| (\d{4}) \| `(.+?)` \|", re.M)
    rows = row.findall(section("### Closes the server initiates"))
    assert {(int(code), reason) for code, reason in rows} == {
        (closing.code, closing.reason) for closing in protocol.CLOSINGS
    }
