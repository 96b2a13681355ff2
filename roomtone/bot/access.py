"""Who may get invites and who may change that.

The rules, kept compatible with the original Roomtone's `.env`:

- admins (`TELEGRAM_ADMIN_USERS` ids or `TELEGRAM_ADMIN_USERNAMES`) may always
  invite and manage the lists;
- other users must be on the allowlist (`TELEGRAM_ALLOWED_USERS`, plus
  `/allow_user`, minus `/deny_user`);
- in a group, the chat must also be allowed (`TELEGRAM_ALLOWED_CHATS` plus
  `/allow_chat` minus `/deny_chat`); while no chat is allowed at all, any group
  works, as in the original.
"""

from __future__ import annotations

from roomtone.bot.config import BotConfig
from roomtone.bot.state import StateStore


class Access:
    def __init__(self, config: BotConfig, store: StateStore) -> None:
        self.config = config
        self.store = store

    def allowed_users(self) -> set[int]:
        return self.store.users.apply(self.config.allowed_users)

    def allowed_chats(self) -> set[int]:
        return self.store.chats.apply(self.config.allowed_chats)

    def notify_chats(self) -> set[int]:
        """Where join notices go: TELEGRAM_NOTIFY_CHATS, else the allowed chats."""
        if self.config.notify_chats is not None:
            return set(self.config.notify_chats)
        return self.allowed_chats()

    def is_admin(self, user_id: int, username: str | None) -> bool:
        if user_id in self.config.admin_users:
            return True
        return bool(username) and username.lower() in self.config.admin_usernames

    def is_user_allowed(self, user_id: int, username: str | None) -> bool:
        return self.is_admin(user_id, username) or user_id in self.allowed_users()

    def is_chat_allowed(self, chat_id: int, chat_type: str) -> bool:
        if chat_type == "private":
            return True
        chats = self.allowed_chats()
        return not chats or chat_id in chats

    def may_invite(self, user_id: int, username: str | None, chat_id: int, chat_type: str) -> bool:
        return self.is_user_allowed(user_id, username) and self.is_chat_allowed(chat_id, chat_type)

    def allow_user(self, user_id: int) -> bool:
        self.store.users.allow(user_id)
        return self.store.save()

    def deny_user(self, user_id: int) -> bool:
        self.store.users.deny(user_id)
        return self.store.save()

    def allow_chat(self, chat_id: int) -> bool:
        self.store.chats.allow(chat_id)
        return self.store.save()

    def deny_chat(self, chat_id: int) -> bool:
        self.store.chats.deny(chat_id)
        return self.store.save()

    def summary(self) -> str:
        """Plain text for /list_access (sent without parse mode)."""

        def ids(values: set[int] | frozenset[int]) -> str:
            return ", ".join(str(v) for v in sorted(values)) or "none"

        chats = self.allowed_chats()
        lines = [
            f"Allowed users: {ids(self.allowed_users())}",
            f"Allowed chats: {ids(chats) if chats else 'any (no chat restriction)'}",
            f"Notify chats: {ids(self.notify_chats())}",
            f"Admin users: {ids(self.config.admin_users)}",
            "Admin usernames: "
            + (", ".join("@" + u for u in sorted(self.config.admin_usernames)) or "none"),
            f"Pending deletions: {len(self.store.deletions)}",
        ]
        if self.store.problem:
            lines.append(f"Warning: {self.store.problem}")
        return "\n".join(lines)
