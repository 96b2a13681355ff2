"""Every text the bot sends, in one place so wording stays consistent.

Invites and notices are HTML (names and URLs escaped here); the rest is plain
text, so nothing a user typed can change the formatting.
"""

from __future__ import annotations

import html


def validity(ttl_seconds: int) -> str:
    """'5 minutes', '1 minute', '30 seconds' — rounded down so we never overpromise."""
    if ttl_seconds < 60:
        return f"{ttl_seconds} seconds"
    minutes = ttl_seconds // 60
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def invite(url: str, ttl_seconds: int) -> str:
    link = html.escape(url, quote=True)
    return (
        f'Your link to the call: <a href="{link}">{link}</a>\n'
        f"It stays valid for {validity(ttl_seconds)}; this message is deleted then."
    )


def join_notice(name: str, url: str) -> str:
    return (
        f"<b>{html.escape(name, quote=False)}</b> joined the call. "
        f'<a href="{html.escape(url, quote=True)}">Join the call</a>'
    )


def help_text(command: str, ttl_seconds: int) -> str:
    return (
        "I hand out links to the Roomtone call.\n"
        f"Send {command} and I reply with a personal link, valid for {validity(ttl_seconds)}.\n"
        "/whoami shows your user id and this chat's id (an admin needs them to allow you)."
    )


def refusal(user_id: int) -> str:
    return f"Sorry, you are not allowed to get invites. Your user id is {user_id}."


ADMIN_ONLY = "Only admins can change who gets invites."


def whoami(user_id: int, username: str | None, chat_id: int, chat_type: str) -> str:
    who = f"@{username}" if username else "(no username)"
    return f"User id: {user_id} {who}\nChat id: {chat_id} ({chat_type})"


def usage(command: str, what: str) -> str:
    return f"Usage: /{command} <{what}> (a number; /whoami shows ids)"


def changed(action: str, kind: str, item: int, saved: bool) -> str:
    text = f"{action} {kind} {item}."
    if not saved:
        text += " Warning: the state file could not be written; this lasts until a restart."
    return text
