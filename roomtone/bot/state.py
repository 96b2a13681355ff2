"""The bot's state file: admin changes to the allowlists and pending deletions.

Admin changes are stored as differences from the environment lists (added and
removed ids), so the env lists keep applying when the file is lost and a later
change of the env is not masked by an old copy. Pending deletions are stored so
an invite is still deleted on time when the bot restarts in between.

Writes are atomic (temp file, fsync, rename, fsync of the directory): a crash
leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("roomtone.bot.state")
VERSION = 1


@dataclass(frozen=True)
class PendingDeletion:
    chat_id: int
    message_id: int
    due: float  # unix time: the expiry of the token the message carries


@dataclass
class IdDelta:
    """Ids an admin added to or removed from an env list."""

    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    def apply(self, base: frozenset[int]) -> set[int]:
        return (set(base) | self.added) - self.removed

    def allow(self, item: int) -> None:
        self.added.add(item)
        self.removed.discard(item)

    def deny(self, item: int) -> None:
        self.removed.add(item)
        self.added.discard(item)

    def to_json(self) -> dict[str, list[int]]:
        return {"added": sorted(self.added), "removed": sorted(self.removed)}

    @classmethod
    def from_json(cls, data: Any) -> IdDelta:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError("expected an object with added/removed")
        return cls(added=_ids(data.get("added", [])), removed=_ids(data.get("removed", [])))


def _ids(value: Any) -> set[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError("expected a list of integer ids")
    return set(value)


def _deletion(item: Any) -> PendingDeletion:
    if not isinstance(item, dict):
        raise ValueError("a deletion must be an object")
    return PendingDeletion(
        chat_id=int(item["chat_id"]), message_id=int(item["message_id"]), due=float(item["due"])
    )


class StateStore:
    """Loads once at start, then saves after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.users = IdDelta()
        self.chats = IdDelta()
        self.deletions: list[PendingDeletion] = []
        self.problem: str | None = None  # shown by /list_access while it lasts

    def load(self) -> None:
        """Read the file; a missing or corrupt one is reported and the env lists apply."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.warning("state file %s not found; starting from the environment lists", self.path)
            return
        except OSError as exc:
            self.problem = f"cannot read state file {self.path}: {exc.strerror}"
            log.error("%s; using the environment lists only", self.problem)
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
            users = IdDelta.from_json(data.get("users"))
            chats = IdDelta.from_json(data.get("chats"))
            deletions = [_deletion(item) for item in data.get("deletions", [])]
        except (ValueError, KeyError, TypeError) as exc:
            self._set_aside_corrupt(exc)
            return
        self.users, self.chats, self.deletions = users, chats, deletions
        log.info("state file %s loaded: %d pending deletions", self.path, len(self.deletions))

    def _set_aside_corrupt(self, exc: Exception) -> None:
        # Keep the bad file for the operator instead of overwriting it on the next save.
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(self.path, aside)
        self.problem = (
            f"state file {self.path} was corrupt ({exc}); moved to {aside.name}, "
            "admin changes made before are lost, the environment lists apply"
        )
        log.error("%s", self.problem)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "users": self.users.to_json(),
            "chats": self.chats.to_json(),
            "deletions": [
                {"chat_id": d.chat_id, "message_id": d.message_id, "due": d.due}
                for d in sorted(self.deletions, key=lambda d: d.due)
            ],
        }

    def save(self) -> bool:
        """Write atomically; False (and logged) if the disk refused."""
        text = json.dumps(self.to_json(), indent=2) + "\n"
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp_name, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
                raise
            _fsync_directory(directory)
        except OSError as exc:
            log.error("cannot write state file %s: %s", self.path, exc.strerror or exc)
            return False
        return True


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
