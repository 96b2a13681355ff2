"""The bot's pure parts: backoff, state file, access rules, message texts."""

from __future__ import annotations

import json

import pytest

from roomtone.bot import messages
from roomtone.bot.access import Access
from roomtone.bot.backoff import CAP_SECONDS, Backoff
from roomtone.bot.config import BotConfig
from roomtone.bot.notifier import ServerError, parse_participants
from roomtone.bot.state import PendingDeletion, StateStore


def test_backoff_grows_with_jitter_and_is_capped():
    backoff = Backoff(base=1.0)
    delays = [backoff.next_delay() for _ in range(12)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(d <= CAP_SECONDS for d in delays)
    assert all(d >= CAP_SECONDS / 2 for d in delays[6:])
    assert len({round(d, 6) for d in delays[6:]}) > 1  # jittered, not in lockstep
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_state_round_trip_is_atomic(tmp_path):
    path = tmp_path / "sub" / "state.json"
    store = StateStore(path)
    store.load()  # missing: fine, nothing reported as a problem
    assert store.problem is None
    store.users.allow(5)
    store.chats.deny(-7)
    store.deletions.append(PendingDeletion(1, 2, 3.5))
    assert store.save()
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left
    again = StateStore(path)
    again.load()
    assert again.users.added == {5} and again.chats.removed == {-7}
    assert again.deletions == [PendingDeletion(1, 2, 3.5)]


@pytest.mark.parametrize(
    "text",
    ["{broken", "[]", '{"users": {"added": ["x"]}}', '{"deletions": [{"chat_id": 1}]}'],
)
def test_corrupt_state_is_set_aside_and_reported(tmp_path, text):
    path = tmp_path / "state.json"
    path.write_text(text)
    store = StateStore(path)
    store.load()
    assert store.problem and "corrupt" in store.problem
    assert not path.exists() and list(tmp_path.glob("state.json.corrupt-*"))
    assert store.users.added == set() and store.deletions == []


def test_access_rules(tmp_path):
    config = BotConfig(
        allowed_users=frozenset({1}),
        admin_users=frozenset({9}),
        admin_usernames=frozenset({"boss"}),
    )
    access = Access(config, StateStore(tmp_path / "s.json"))
    assert access.may_invite(1, None, 1, "private")
    assert access.may_invite(1, None, -5, "group")  # no chat restriction yet
    assert not access.may_invite(2, None, 2, "private")
    assert access.may_invite(9, None, 9, "private") and access.is_admin(3, "Boss")
    access.allow_chat(-5)
    assert not access.may_invite(1, None, -6, "supergroup")
    assert access.may_invite(1, None, -5, "supergroup")
    assert access.notify_chats() == {-5}
    access.deny_user(1)
    assert not access.may_invite(1, None, 1, "private")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["users"]["removed"] == [1] and saved["chats"]["added"] == [-5]


def test_texts_escape_what_users_control():
    notice = messages.join_notice("<i>Eve</i> & co", "https://x.example/?token=a&b=c")
    assert "<b>&lt;i&gt;Eve&lt;/i&gt; &amp; co</b>" in notice
    assert 'href="https://x.example/?token=a&amp;b=c"' in notice
    assert messages.validity(300) == "5 minutes"
    assert messages.validity(60) == "1 minute"
    assert messages.validity(90) == "1 minute"
    assert messages.validity(30) == "30 seconds"


def test_parse_participants():
    data = [{"id": "a", "name": "Ann"}, {"id": "b"}, {"name": "no id"}, "junk"]
    assert parse_participants(data) == {"a": "Ann", "b": ""}
    with pytest.raises(ServerError):
        parse_participants({"id": "a"})
