"""Admin commands, their persistence across a restart, and a corrupt state file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot.conftest import ADMIN, GROUP, OTHER_GROUP, STRANGER, USER


def ask(api, text: str, user: int, chat: int | None = None) -> str:
    """Send `text` and return the bot's answer in the same chat."""
    count = len(api.sent())
    api.message(text, user, chat)
    return api.wait_sent(user if chat is None else chat, since=count).params["text"]


def test_admin_changes_persist_across_a_restart(api, launch, bot_env):
    bot = launch(bot_env)
    assert "not allowed" in ask(api, "/invite", STRANGER)

    assert ask(api, f"/allow_user {STRANGER}", ADMIN) == f"Allowed user {STRANGER}."
    assert "token=" in ask(api, "/invite", STRANGER)
    assert ask(api, f"/deny_user {USER}", ADMIN) == f"Denied user {USER}."
    assert "not allowed" in ask(api, "/invite", USER)
    assert ask(api, f"/allow_chat {OTHER_GROUP}", ADMIN) == f"Allowed chat {OTHER_GROUP}."
    assert "token=" in ask(api, "/invite", STRANGER, OTHER_GROUP)
    assert ask(api, f"/deny_chat {GROUP}", ADMIN) == f"Denied chat {GROUP}."

    for bad in ("/allow_user", "/allow_user bob", "/deny_chat 1 2"):
        assert ask(api, bad, ADMIN).startswith("Usage: /")

    listing = ask(api, "/list_access", ADMIN)
    assert f"Allowed users: {STRANGER}" in listing
    assert f"Allowed chats: {OTHER_GROUP}" in listing
    assert f"Admin users: {ADMIN}" in listing

    state = json.loads(Path(bot_env["BOT_STATE_FILE"]).read_text())
    assert state["users"] == {"added": [STRANGER], "removed": [USER]}
    assert state["chats"] == {"added": [OTHER_GROUP], "removed": [GROUP]}

    assert bot.stop() == 0
    launch(bot_env)
    # The first answer after the restart is to the new message: nothing was replayed.
    assert "token=" in ask(api, "/invite", STRANGER)
    assert "not allowed" in ask(api, "/invite", USER)
    assert "token=" in ask(api, "/invite", STRANGER, OTHER_GROUP)
    count = len(api.sent())
    api.message("/invite", STRANGER, GROUP)  # denied chat now: silence
    api.message("/whoami", STRANGER, GROUP)
    assert api.wait_sent(GROUP, since=count).params["text"].startswith("User id:")


def test_admin_by_username(api, launch, bot_env):
    launch({**bot_env, "TELEGRAM_ADMIN_USERNAMES": "@Boss"})
    count = len(api.sent())
    api.message("/list_access", 4004, username="boss")
    assert "Admin usernames: @boss" in api.wait_sent(4004, since=count).params["text"]


def test_corrupt_state_file_is_reported_and_env_lists_apply(api, launch, bot_env):
    state_file = Path(bot_env["BOT_STATE_FILE"])
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text("{not json")
    bot = launch(bot_env)
    assert "corrupt" in bot.output()
    assert list(state_file.parent.glob("bot-state.json.corrupt-*"))
    assert "token=" in ask(api, "/invite", USER)
    assert "Warning: state file" in ask(api, "/list_access", ADMIN)
    assert json.loads(state_file.read_text())["version"] == 1  # rewritten cleanly
