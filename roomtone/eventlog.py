"""Structured events: one JSON object per line on stdout.

Room events (joined, left, media_start, media_stop) and client log events
(`POST /logs`) go here so operators can ship stdout to any log collector.
Nothing written here may carry a token.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any


def emit(event: str, **fields: Any) -> None:
    record = {"ts": round(time.time(), 3), "event": event, **fields}
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


_SECRET_PARAMS = re.compile(r"(?i)([?&;](?:token|name)=)[^&#\s\"']*")


def redact(text: str) -> str:
    """Replace `token=` and `name=` values in any URL inside `text` with `redacted`."""
    return _SECRET_PARAMS.sub(r"\1redacted", text)
