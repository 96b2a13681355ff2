"""Deletion when tokens expire (also across a restart), outages, SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.bot.botproc import start_bot
from tests.bot.conftest import USER
from tests.bot.helpers import claims_of, link_in, token_of
from tests.serverproc import free_port

TTL = "5"  # BOT_JWT_TTL_SECONDS minimum, so the suite does not wait long


def deletions_of(api, message_id: int) -> list:
    return [c for c in api.calls_to("deleteMessage") if int(c.params["message_id"]) == message_id]


def test_invite_is_deleted_when_its_token_expires(api, launch, bot_env):
    bot = launch({**bot_env, "BOT_JWT_TTL_SECONDS": TTL})
    api.message("/invite", USER)
    sent = api.wait_sent(USER)
    assert "valid for 5 seconds" in sent.params["text"]
    expires = claims_of(token_of(link_in(sent.params["text"])))["exp"]
    message_id = sent.result["message_id"]
    deletion = api.wait_for(
        lambda: deletions_of(api, message_id), 15, f"the deletion\n{bot.output()}"
    )[0]
    assert int(deletion.params["chat_id"]) == USER
    assert deletion.at >= expires - 0.5  # not before the link stopped working


def test_deletion_due_while_the_bot_was_down_happens_at_start(api, launch, bot_env):
    env = {**bot_env, "BOT_JWT_TTL_SECONDS": TTL}
    bot = launch(env)
    api.message("/invite", USER)
    sent = api.wait_sent(USER)
    message_id = sent.result["message_id"]
    assert bot.stop() == 0
    state = json.loads(Path(env["BOT_STATE_FILE"]).read_text())
    [pending] = state["deletions"]
    assert (pending["chat_id"], pending["message_id"]) == (USER, message_id)

    time.sleep(max(0.0, pending["due"] - time.time()) + 0.5)
    assert not deletions_of(api, message_id)
    launch(env)
    api.wait_for(lambda: deletions_of(api, message_id), 10, "the deletion after restart")
    api.wait_for(
        lambda: not json.loads(Path(env["BOT_STATE_FILE"]).read_text())["deletions"],
        5,
        "the state file to forget the deletion",
    )


def test_bot_survives_a_bad_gateway_outage(api, launch, bot_env):
    bot = launch(bot_env)
    api.fail_with(502)
    api.wait_for(
        lambda: len([c for c in api.calls if c.status == 502]) >= 3, 20, "three failed polls"
    )
    assert bot.alive()
    api.fail_with(None)
    api.message("/invite", USER)
    assert "token=" in api.wait_sent(USER, timeout=30).params["text"]
    assert bot.alive()
    assert "retrying in" in bot.output()
    assert "123456:TEST" not in bot.output()  # the bot token never reaches the logs


def test_sigterm_exits_quickly(api, launch, bot_env):
    """Idle in a long poll, backing off in an outage, and while a reply is being retried."""
    for case in ("polling", "outage", "reply"):
        bot = launch(bot_env)
        failed = len([c for c in api.calls if c.status == 502])
        if case == "outage":
            api.fail_with(502)
        elif case == "reply":
            api.fail_with(502, methods=("sendMessage",))
            api.message("/invite", USER)
        if case != "polling":
            api.wait_for(
                lambda failed=failed: len([c for c in api.calls if c.status == 502]) > failed,
                10,
                "a failed call",
            )
        started = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        assert bot.proc.wait(10) == 0
        assert time.monotonic() - started < 5.0, bot.output()
        api.fail_with(None)


def test_bot_survives_an_unreachable_call_server(api, launch, bot_env):
    bot = launch({**bot_env, "BOT_SERVER_URL": f"http://127.0.0.1:{free_port()}"})
    bot.wait_output("GET /participants failed")
    api.message("/invite", USER)
    assert "token=" in api.wait_sent(USER).params["text"]
    assert bot.alive()


def test_bot_waits_for_telegram_at_start(api, bot_env):
    api.fail_with(502)
    bot = start_bot(bot_env)
    try:
        bot.wait_output("cannot reach Telegram")
        assert bot.alive()
        api.fail_with(None)
        bot.wait_output('"bot_started"', timeout=30)
        api.message("/invite", USER)
        assert "token=" in api.wait_sent(USER).params["text"]
    finally:
        bot.stop()
