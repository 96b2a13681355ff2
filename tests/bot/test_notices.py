"""Join notices: newcomers announced with an escaped name and a working link."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import GROUP
from tests.bot.helpers import claims_of, get_participants, join, link_in, token_of
from tests.keys import make_token


async def test_newcomer_is_announced_and_the_notice_deleted(api, launch, bot_env, server):
    early = await join(server.ws_url, make_token("bot"), "Early")
    try:
        bot = await asyncio.to_thread(launch, {**bot_env, "BOT_JWT_TTL_SECONDS": "5"})
        await asyncio.to_thread(bot.wait_output, "join notices: baseline")
        alice = await join(server.ws_url, make_token("bot"), "<b>Alice</b>")
        try:
            notice = await asyncio.to_thread(api.wait_sent, GROUP)
        finally:
            await alice.close()
    finally:
        await early.close()

    text = notice.params["text"]
    assert notice.params["parse_mode"] == "HTML"
    assert "<b>&lt;b&gt;Alice&lt;/b&gt;</b> joined the call." in text
    assert ">Join the call</a>" in text
    assert "Early" not in " ".join(c.params["text"] for c in api.sent())  # the baseline

    token = token_of(link_in(text))
    assert claims_of(token)["sub"] == f"chat:{GROUP}"
    status, _ = await asyncio.to_thread(get_participants, server.url, token)
    assert status == 200

    message_id = notice.result["message_id"]
    await asyncio.to_thread(
        api.wait_for,
        lambda: any(
            int(c.params["message_id"]) == message_id for c in api.calls_to("deleteMessage")
        ),
        15,
        "the notice's deletion",
    )
