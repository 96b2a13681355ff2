"""How long a late joiner waits for each remote video, per media mode and browser.

Two participants stream (`--publishers`, e.g. `ff`: two Firefox), then a third
(`--joiner`: `f` or `c`) joins `--settle` seconds later, again and again (a
fresh page each time, the previous one leaving). Measured inside the joiner's
page from the click on Join, per remote video, with requestVideoFrameCallback:
`first`, the first painted frame; `moving`, the first frame from which the
video keeps moving (a frame at least every 250 ms for the next second: a
still picture, or one that stalls again, does not count). Needs Debian's
chromium and firefox-esr and the Firefox bridge (`make browser`), and runs in
the test namespace:

    tests/isolated.sh .venv/bin/python bench/latejoin.py --mode ws --publishers ff --joiner f
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.browsers import Browsers  # noqa: E402
from tests.e2e.call import join  # noqa: E402
from tests.serverproc import start_server  # noqa: E402

# Installed before the app runs: note the Join click and each remote video's first frame.
FIRST_FRAME_SCRIPT = """
(() => {
  const t = { click: null, first: {} };
  window.__lateJoin = t;
  document.addEventListener('click', (e) => {
    const join = e.target.closest('[data-testid="join-button"]');
    if (t.click === null && join) t.click = performance.now();
  }, true);
  const seen = new WeakSet();
  setInterval(() => {
    for (const v of document.querySelectorAll('[data-testid="remote-video"]')) {
      if (seen.has(v)) continue;
      seen.add(v);
      const peer = v.dataset.peerId;
      const frames = (t.first[peer] = []);
      const onFrame = () => {
        frames.push(performance.now());
        if (frames.length < 400) v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    }
  }, 10);
})();
"""
READ_JS = """
() => { const t = window.__lateJoin; const out = {};
        for (const [p, times] of Object.entries(t.first)) out[p] = times.map((at) => at - t.click);
        return out; }
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="ws", choices=["ws", "webrtc", "sfu"])
    parser.add_argument("--publishers", default="ff", help="f = Firefox, c = Chromium, per person")
    parser.add_argument("--joiner", default="f", choices=["f", "c"])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before each join")
    args = parser.parse_args()
    web = ROOT / "roomtone" / "static"
    env = {"MEDIA_TRANSPORT": args.mode, "ALLOW_INSECURE_HTTP": "true", "WEB_ROOT": str(web)}
    server = start_server(env=env)
    rng = random.Random(1)
    waits: list[float] = []
    firsts: list[float] = []
    with Browsers() as browsers:
        try:
            publishers = [
                join(browsers.page(kind), server.url, f"P{i}{kind}")
                for i, kind in enumerate(args.publishers)
            ]
            ids = {p.self_id for p in publishers}
            for run in range(args.runs):
                time.sleep(args.settle + rng.random() * 2)  # not in step with keyframes
                page = browsers.page(args.joiner, init_script=FIRST_FRAME_SCRIPT)
                join(page, server.url, f"Late{run}")
                time.sleep(10)
                frames: dict[str, list[float]] = page.evaluate(READ_JS)
                first = {p: frames[p][0] if frames.get(p) else None for p in ids}
                moving = {p: moving_from(frames.get(p, [])) for p in ids}
                print(
                    f"run {run}: ms from Join, first frame "
                    f"{ {p[:4]: rounded(v) for p, v in first.items()} }, moving "
                    f"{ {p[:4]: rounded(v) for p, v in moving.items()} }",
                    flush=True,
                )
                firsts += [v if v is not None else 10_000.0 for v in first.values()]
                waits += [v if v is not None else 10_000.0 for v in moving.values()]
                browsers.close_page(page)
        finally:
            server.stop()
    print(
        f"{args.mode} publishers={args.publishers} joiner={args.joiner}, {len(waits)} streams: "
        f"first frame median {statistics.median(firsts):.0f} ms, max {max(firsts):.0f} ms; "
        f"moving median {statistics.median(waits):.0f} ms, max {max(waits):.0f} ms"
    )


def moving_from(times: list[float], gap: float = 250.0, span: float = 1000.0) -> float | None:
    """The first frame after which frames come at least every `gap` ms for `span` ms."""
    for i, start in enumerate(times):
        end = start + span
        j = i
        while j + 1 < len(times) and times[j + 1] - times[j] <= gap and times[j] < end:
            j += 1
        if times[j] >= end:
            return start
    return None


def rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


if __name__ == "__main__":
    main()
