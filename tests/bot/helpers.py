"""Small helpers shared by the bot tests: links in messages, server checks."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from tests.keys import private_key
from tests.wsclient import ProtocolClient


def link_in(text: str) -> str:
    match = re.search(r'href="([^"]+)"', text)
    assert match, f"no link in {text!r}"
    return html.unescape(match[1])


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def claims_of(token: str) -> dict[str, Any]:
    """Verified with the bot's public key, as the server does."""
    return jwt.decode(token, private_key("bot").public_key(), algorithms=["RS256"])


def get_participants(base_url: str, token: str | None) -> tuple[int, Any]:
    url = f"{base_url}/participants" + (f"?token={token}" if token else "")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


async def join(ws_url: str, token: str, name: str) -> ProtocolClient:
    client = await ProtocolClient.connect(f"{ws_url}?token={token}")
    await client.join(name)
    return client
