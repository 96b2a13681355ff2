"""Proof that nothing is transcoded: codec factories that raise.

Only the no-transcoding tests call `forbid_codecs` (tests/codecfree.py starts
`roomtone serve` after it); it lives here because it names where aiortc and
PyAV create codecs. Part of the aiortc adapter: see the package docstring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiortc.codecs
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import av

log = logging.getLogger(__name__)

FORBIDDEN_MARKER = "SFU codec use forbidden"


class CodecForbidden(RuntimeError):
    """A decoder or encoder was about to be created in a forwarding-only process."""


def _forbidden(*args: object, **kwargs: object) -> Any:
    log.error("%s: a decoder or encoder was requested", FORBIDDEN_MARKER)
    raise CodecForbidden(FORBIDDEN_MARKER)


def forbid_codecs() -> Callable[[], None]:
    """Make every codec factory raise: aiortc's get_decoder/get_encoder and av's CodecContext.

    aiortc 1.16 binds `get_decoder` into rtcrtpreceiver and `get_encoder` into
    rtcrtpsender at import, so those names are replaced too. Returns a function
    that undoes it (for tests).
    """
    targets: list[tuple[Any, str, Any]] = [
        (aiortc.codecs, "get_decoder", _forbidden),
        (aiortc.codecs, "get_encoder", _forbidden),
        (aiortc.rtcrtpreceiver, "get_decoder", _forbidden),
        (aiortc.rtcrtpsender, "get_encoder", _forbidden),
        (av.CodecContext, "create", staticmethod(_forbidden)),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in targets]
    for owner, name, replacement in targets:
        setattr(owner, name, replacement)

    def restore() -> None:
        for owner, name, original in saved:
            setattr(owner, name, original)

    return restore
