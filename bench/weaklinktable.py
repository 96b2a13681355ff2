"""Markdown for bench/weaklink.py's results: the tables and the docs section around them."""

from __future__ import annotations

from typing import Any

COMMAND = ".venv/bin/python bench/weaklink.py --docs"


def _pair(values: list[str]) -> str:
    return " / ".join(values)


def _fps(got: dict[str, Any] | None) -> str:
    return "-" if got is None else f"{got['fps']:.1f}"


def _pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _link(r: dict[str, Any]) -> str:
    if r["case"] == "baseline":
        text = "unlimited"
    elif r["case"] == "lifted":
        text = "lifted"
    else:
        text = f"{r['rate_kbit']:g} kbit/s, {_pct(r['loss'])} loss"
    return text + (" (C reconnected)" if r["reconnected"] else "")


def downlink_row(r: dict[str, Any]) -> str:
    views = r["views"]
    a_b = [views["C"].get("A"), views["C"].get("B")]
    cells = [
        f"`{r['mode']}`",
        _link(r),
        _pair([_fps(g) for g in a_b]),
        _pair([_pct(g["frozen"]) if g else "-" for g in a_b]),
        _pair([_pct(g["audio_concealed"], 1) if g else "-" for g in a_b]),
        _pair([f"{g['width']}x{g['height']}" if g else "-" for g in a_b]),
        _pair([_fps(views["A"].get("B")), _fps(views["A"].get("C"))]),
        _pair([_fps(views["B"].get("A")), _fps(views["B"].get("C"))]),
        "-" if r.get("load_1min") is None else f"{r['load_1min']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def uplink_row(r: dict[str, Any]) -> str:
    sent = r["sent_video"]["C"]
    sends = ", ".join(
        f"{s['width']}x{s['height']} {s['fps']:.0f} fps {s['kbit_per_s']:.0f} kbit/s "
        f"({s['limited_by'] or '?'})"
        for s in sent
    )
    seen = [r["views"]["A"].get("C"), r["views"]["B"].get("C")]
    cells = [
        f"`{r['mode']}`",
        _link(r),
        sends or "-",
        _pair([_fps(g) for g in seen]),
        _pair([_pct(g["frozen"]) if g else "-" for g in seen]),
        _pair([f"{g['width']}x{g['height']}" if g else "-" for g in seen]),
        _pair([_pct(g["audio_concealed"], 1) if g else "-" for g in seen]),
    ]
    return "| " + " | ".join(cells) + " |"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| mode | C's downlink | C sees A / B (fps) | frozen | audio concealed | resolution "
        "| A sees B / C (fps) | B sees A / C (fps) | load |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    lines += [downlink_row(r) for r in results if r["case"] != "uplink"]
    uplink = [r for r in results if r["case"] == "uplink"]
    if uplink:
        lines += [
            "",
            "| mode | C's uplink | C's browser sends | A / B see C (fps) | frozen | resolution "
            "| A / B hear C (concealed) |",
            "| --- | --- | --- | ---: | ---: | --- | ---: |",
        ]
        lines += [uplink_row(r) for r in uplink]
    return "\n".join(lines)


def section(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    args = meta["args"]
    return "\n".join(
        [
            "What a participant on a small, lossy link gets in each media mode, and whether",
            "the others notice. Three headless Chromium participants A, B and C (Chromium's",
            "fake camera at 640x480, 20 fps, and fake microphone), one call per mode with a",
            "fresh server and browser. After an unconstrained baseline, C's downlink is cut",
            "step by step and finally lifted, A and B staying unconstrained; then C's uplink",
            f"is cut. Each step: {args['settle']:g} s to settle, {args['seconds']:g} s measured "
            "in every page.",
            "The limit is an HTB class with a TBF (200 ms queue) plus nftables random loss",
            "after the bottleneck (`tests/netshape.py`), inside the test network namespace.",
            "",
            f"Reproduce: `{COMMAND}` (it runs itself inside `tests/isolated.sh`; options",
            "`--modes`, `--rates`, `--loss`, `--seconds`, `--merge` to re-measure one mode);",
            "raw figures, with the shaper's own counters per step, in `bench/out/weaklink.json`.",
            "",
            f"Machine: {meta['machine']}.",
            "",
            "- **fps**: frames painted per second in C's page (`requestVideoFrameCallback`);",
            "  the JSON also has frames decoded.",
            "- **frozen**: share of 0.5 s samples in which no new frame was painted.",
            "- **audio concealed**: `webrtc`/`sfu`: getStats `concealedSamples /",
            "  totalSamplesReceived` of that participant's audio. `ws` plays audio through",
            "  MediaSource, so: time the playback clock stood still plus media skipped to",
            "  catch up with the live edge, over wall time.",
            "- **resolution**: the most common size of the video C received.",
            "- **A sees B / C**, **B sees A / C**: the unconstrained participants' frame",
            "  rates. They double as a control: when they drop in the same window as C's,",
            "  the machine's CPU, not C's link, was the bottleneck.",
            "- **load**: the machine's 1-minute load average at the end of the window",
            "  (2 cores; the JSON also has the CPU busy time): above ~3 the browsers",
            "  compete for CPU and frame rates drop for reasons other than the network.",
            "",
            table(results),
        ]
    )
