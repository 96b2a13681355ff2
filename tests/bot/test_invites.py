"""Invites, refusals and help, through the real bot process and a real auth-mode server."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import GROUP, OTHER_GROUP, STRANGER, USER
from tests.bot.fakeapi import BOT_USERNAME
from tests.bot.helpers import claims_of, get_participants, join, link_in, token_of


def test_invite_link_is_accepted_by_the_server(api, launch, bot_env, server):
    launch(bot_env)
    api.message("/invite", USER)
    call = api.wait_sent(USER)
    assert call.params["parse_mode"] == "HTML"
    assert "valid for 5 minutes" in call.params["text"]
    url = link_in(call.params["text"])
    assert url.startswith(f"{server.url}/?token=")
    token = token_of(url)
    claims = claims_of(token)
    assert claims["sub"] == str(USER)
    assert claims["iss"] == "roomtone-telegram"
    assert claims["exp"] - claims["iat"] == 300

    assert get_participants(server.url, None)[0] == 401
    status, people = get_participants(server.url, token)
    assert status == 200 and isinstance(people, list)

    async def join_and_leave() -> str:
        client = await join(server.ws_url, token, "Bob")
        await client.close()
        return client.id or ""

    assert asyncio.run(join_and_leave())


def test_invite_in_a_group_by_command_and_by_mention(api, launch, bot_env):
    launch(bot_env)
    api.message(f"/invite@{BOT_USERNAME}", USER, GROUP)
    first = api.wait_sent(GROUP)
    assert claims_of(token_of(link_in(first.params["text"])))["sub"] == str(USER)
    assert first.params["reply_parameters"]["message_id"]  # answers the request in the thread

    api.message(f"@{BOT_USERNAME} /invite", USER, GROUP)
    second = api.wait_sent(GROUP, since=len(api.sent()))
    assert "token=" in second.params["text"]

    # A command addressed to another bot is not ours; /whoami is the sentinel that
    # proves the earlier message was handled (updates are handled in order).
    count = len(api.sent())
    api.message("/invite@some_other_bot", USER, GROUP)
    api.message("/whoami", USER, GROUP)
    reply = api.wait_sent(GROUP, since=count)
    assert reply.params["text"].startswith("User id:")


def test_refusals(api, launch, bot_env):
    launch(bot_env)
    api.message("/invite", STRANGER)
    refusal = api.wait_sent(STRANGER)
    assert "not allowed" in refusal.params["text"]
    assert str(STRANGER) in refusal.params["text"]
    assert "token=" not in refusal.params["text"]

    count = len(api.sent())
    api.message("/invite", STRANGER, GROUP)  # allowed chat, unknown user: silence
    api.message("/invite", USER, OTHER_GROUP)  # allowed user, chat not allowed: silence
    api.message("/allow_user 1", USER, GROUP)  # not an admin, in a group: silence
    api.message("/whoami", STRANGER, GROUP)
    reply = api.wait_sent(GROUP, since=count)
    assert reply.params["text"].startswith(f"User id: {STRANGER}")
    assert [c.params["chat_id"] for c in api.sent(since=count)] == [GROUP]

    api.message("/allow_user 1", USER)
    assert "Only admins" in api.wait_sent(USER).params["text"]


def test_help_whoami_and_a_custom_command(api, launch, bot_env):
    launch({**bot_env, "BOT_COMMAND": "/call", "TELEGRAM_BOT_USERNAME": BOT_USERNAME})
    api.message("/start", STRANGER)
    help_text = api.wait_sent(STRANGER).params["text"]
    assert "/call" in help_text and "/whoami" in help_text

    count = len(api.sent())
    api.message("hello there", STRANGER)
    assert api.wait_sent(STRANGER, since=count).params["text"] == help_text

    count = len(api.sent())
    api.message("what a day", USER, GROUP)  # group chatter: silence
    api.message(f"@{BOT_USERNAME} what can you do?", USER, GROUP)
    assert api.wait_sent(GROUP, since=count).params["text"] == help_text

    count = len(api.sent())
    api.message("/whoami", USER, GROUP)
    whoami = api.wait_sent(GROUP, since=count).params["text"]
    assert f"User id: {USER}" in whoami and f"Chat id: {GROUP}" in whoami

    count = len(api.sent())
    api.message("/call", USER)
    assert "token=" in api.wait_sent(USER, since=count).params["text"]
    commands = api.calls_to("setMyCommands")
    assert commands and "call" in str(commands[0].params["commands"])
