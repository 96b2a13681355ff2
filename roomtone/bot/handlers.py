"""What the bot answers to each message.

Invites go only to allowed users in allowed chats; everyone else gets a short
refusal in a DM and silence in a group (a bot that argues in groups is spam).
Help answers /start, /help, any other DM and a mention in a group.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from telegram import Chat, Message, Update, User
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from roomtone.bot import messages
from roomtone.bot.access import Access
from roomtone.bot.config import BotConfig
from roomtone.bot.deletions import DeletionScheduler
from roomtone.bot.invites import Inviter
from roomtone.bot.sending import send

log = logging.getLogger("roomtone.bot")
Context = ContextTypes.DEFAULT_TYPE


@dataclass
class BotServices:
    config: BotConfig
    access: Access
    inviter: Inviter
    deletions: DeletionScheduler
    stop: asyncio.Event
    username: str = ""  # the bot's @name without '@': TELEGRAM_BOT_USERNAME, else getMe


def _parties(update: Update) -> tuple[Message, User, Chat] | None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return None
    return message, user, chat


class Handlers:
    def __init__(self, services: BotServices) -> None:
        self.s = services
        self.command = services.config.command.lstrip("/")

    def register(self, app: Application) -> None:
        app.add_handler(CommandHandler(self.command, self.invite))
        app.add_handler(CommandHandler(["start", "help"], self.help))
        app.add_handler(CommandHandler("whoami", self.whoami))
        for name in ("allow_user", "deny_user", "allow_chat", "deny_chat"):
            app.add_handler(CommandHandler(name, self.change_access))
        app.add_handler(CommandHandler("list_access", self.list_access))
        app.add_handler(MessageHandler(filters.TEXT, self.other))
        app.add_error_handler(self.error)

    async def reply(self, message: Message, text: str, *, html: bool = False) -> Message | None:
        in_group = message.chat.type != "private"
        return await send(
            message.get_bot(),
            message.chat.id,
            text,
            self.s.stop,
            html=html,
            reply_to=message.message_id if in_group else None,
            give_up_after=min(60.0, self.s.inviter.ttl / 2),
        )

    async def invite(self, update: Update, context: Context) -> None:
        parties = _parties(update)
        if parties is None:
            return
        message, user, chat = parties
        if not self.s.access.may_invite(user.id, user.username, chat.id, chat.type):
            log.info("refused an invite to user %s in chat %s", user.id, chat.id)
            if chat.type == "private":
                await self.reply(message, messages.refusal(user.id))
            return
        url, expires = self.s.inviter.new_link(str(user.id))
        sent = await self.reply(message, messages.invite(url, self.s.inviter.ttl), html=True)
        if sent is not None:
            log.info("sent an invite to user %s in chat %s", user.id, chat.id)
            self.s.deletions.schedule(chat.id, sent.message_id, expires)

    async def help(self, update: Update, context: Context) -> None:
        if update.effective_message is not None:
            text = messages.help_text(self.s.config.command, self.s.inviter.ttl)
            await self.reply(update.effective_message, text)

    async def whoami(self, update: Update, context: Context) -> None:
        parties = _parties(update)
        if parties is None:
            return
        message, user, chat = parties
        await self.reply(message, messages.whoami(user.id, user.username, chat.id, chat.type))

    async def _admin_only(self, update: Update) -> tuple[Message, User, Chat] | None:
        """The parties if the sender is an admin; else refuse (DM) or stay silent (group)."""
        parties = _parties(update)
        if parties is None:
            return None
        message, user, chat = parties
        if self.s.access.is_admin(user.id, user.username):
            return parties
        if chat.type == "private":
            await self.reply(message, messages.ADMIN_ONLY)
        return None

    async def change_access(self, update: Update, context: Context) -> None:
        parties = await self._admin_only(update)
        if parties is None:
            return
        message = parties[0]
        name = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
        action, kind = name.split("_")
        args = context.args or []
        if len(args) != 1 or not re.fullmatch(r"-?\d{1,20}", args[0]):
            await self.reply(message, messages.usage(name, f"{kind}_id"))
            return
        item = int(args[0])
        change = {
            "allow_user": self.s.access.allow_user,
            "deny_user": self.s.access.deny_user,
            "allow_chat": self.s.access.allow_chat,
            "deny_chat": self.s.access.deny_chat,
        }[name]
        saved = change(item)
        log.info("admin %s: %s %s", parties[1].id, name, item)
        verb = "Allowed" if action == "allow" else "Denied"
        await self.reply(message, messages.changed(verb, kind, item, saved))

    async def list_access(self, update: Update, context: Context) -> None:
        parties = await self._admin_only(update)
        if parties is not None:
            await self.reply(parties[0], self.s.access.summary())

    def _mentions_me(self, text: str) -> bool:
        name = self.s.username
        return bool(name) and re.search(rf"@{re.escape(name)}\b", text, re.IGNORECASE) is not None

    def _asks_for_invite(self, text: str) -> bool:
        """'@bot /invite' or '@bot invite': the command anywhere after the mention."""
        rest = re.sub(rf"@{re.escape(self.s.username)}\b", " ", text, flags=re.IGNORECASE)
        words = rest.lower().split()
        return bool(words) and words[0].lstrip("/").split("@")[0] == self.command

    async def other(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        if message.chat.type == "private":
            await self.help(update, context)
        elif self._mentions_me(message.text):
            if self._asks_for_invite(message.text):
                await self.invite(update, context)
            else:
                await self.help(update, context)

    async def error(self, update: object, context: Context) -> None:
        log.error("handling an update failed: %r", context.error)
