"""Asking a ws publisher for a keyframe when someone is waiting for one.

A recipient starts a stream at a keyframe: a late joiner gets the history
since the latest one, a recipient that fell behind waits for the next. With
Chromium (a keyframe every second, as the client asks) that is quick. Firefox's
MediaRecorder ignores `videoKeyFrameIntervalDuration` and makes one every
~7.5 s, so a late joiner would download and decode up to 7.5 s of video to
reach the live edge, and a skipped recipient would wait as long.

MediaRecorder has no "keyframe now" call, but every new recording starts with
one. So the server sends the publisher `{"type":"media-keyframe"}` and a
client that knows it restarts its recorder, announcing the new stream with a
fresh `media-start` as after any restart; older clients ignore the message
and keep working as before. It is sent only when it helps: someone waits (a
late joiner just arrived, or a recipient is waiting for a sync point) and the
stream's newest keyframe is older than `STALE_MS` of stream time; at most once
per `MIN_INTERVAL_S` per publisher, since each restart costs something: the
web client splices the new stream on seamlessly, but older clients rebuild
their player.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from roomtone import protocol
from roomtone.wsrelay.fanout import Publication

MEDIA_KEYFRAME = json.dumps(protocol.media_keyframe(), separators=(",", ":"))
STALE_MS = 1500  # Chromium's keyframes (1 s apart, as asked) never get this old
MIN_INTERVAL_S = 3.0


class KeyframeRequests:
    """Per publisher: when a keyframe was last asked for."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._asked: dict[str, float] = {}
        self.sent = 0  # for tests and debugging

    def on_join(self, publication: Publication) -> None:
        """A late joiner was added to `publication` (caught up from history or waiting)."""
        self._ask_if_stale(publication)

    def on_media(self, publication: Publication) -> None:
        """After a chunk was delivered: ask if a recipient is still waiting for a sync point."""
        if any(not s.live for s in publication.subscriptions.values()):
            self._ask_if_stale(publication)

    def forget(self, publisher_id: str) -> None:
        self._asked.pop(publisher_id, None)

    def _ask_if_stale(self, publication: Publication) -> None:
        recluster = publication.stream.recluster
        if recluster is None or recluster.last_keyframe_time is None:
            return  # not WebM with video, or its first keyframe is still to come
        assert recluster.last_time is not None
        if recluster.last_time - recluster.last_keyframe_time <= STALE_MS:
            return
        now = self.clock()
        asked = self._asked.get(publication.id)
        if asked is not None and now - asked < MIN_INTERVAL_S:
            return
        self._asked[publication.id] = now
        self.sent += 1
        publication.publisher.outbox.send_text(MEDIA_KEYFRAME)
