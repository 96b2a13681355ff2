"""One participant on a weak downlink (tests/netshape.py) still gets moving media.

Three Chromium participants in `webrtc` mode (the browsers' own congestion
control adapts each mesh link); C's downlink is cut to 500 kbit/s with 2%
random loss while A and B stay unconstrained. The `sfu` variant of the issue
(#12) goes next to it once the SFU adapts to each subscriber:
`weak_downlink(call, net, Conditions(500, 0.02))` then `expect_media(...)`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import NewContext
from tests.e2e.weakcall import WEAK, expect_media, weak_call, weak_downlink
from tests.netshape import Conditions, Direction, in_isolated_namespace
from tests.serverproc import ServerProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not in_isolated_namespace(), reason="shapes lo: runs only inside tests/isolated.sh"
    ),
]


def test_webrtc_weak_downlink_keeps_video_moving_and_audio_whole(
    server_for: Callable[[str], ServerProcess], new_context: NewContext
) -> None:
    with weak_call(lambda: new_context(small_video=False), server_for("webrtc"), "webrtc") as (
        call,
        net,
    ):
        link = call.weak_link()
        report = weak_downlink(call, net, Conditions(rate_kbit=500, loss=0.02))
        print(report.describe())
        expect_media(report, WEAK, min_fps=10, max_frozen=0.10, max_concealed=0.05)
        # The limit really sat on C's media: packets went through it and some were lost.
        stats = net.stats(link, Direction.DOWN)
        assert stats.sent_packets > 500 and stats.loss_drops > 0, stats
