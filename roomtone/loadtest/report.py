"""The run's figures as a JSON-ready dict and as a table for people.

Degradation, used by `--ramp`, is one explicit rule so that benchmark tables
mean the same thing from one run to the next: a room size is degraded when
less than 90 % of the expected media reaches the receivers, or when the 95th
percentile latency exceeds 500 ms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roomtone.loadtest.metrics import WindowStats, percentile
from roomtone.loadtest.options import redact
from roomtone.loadtest.runner import RunResult, Step

MIN_DELIVERY_RATIO = 0.9
MAX_P95_MS = 500.0
DEGRADATION_RULE = (
    f"delivered < {MIN_DELIVERY_RATIO:.0%} of expected, or p95 latency > {MAX_P95_MS:.0f} ms"
)
LATENCY_DEFINITION = {
    "chunks": "send of a chunk to arrival of the frame holding its last byte, at each receiver",
    "frames": "scheduled send of a video frame to arrival of its first RTP packet, per receiver",
}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def degraded(stats: WindowStats) -> bool:
    ratio = stats.ratio
    p95 = stats.latency(0.95)
    too_little = ratio is not None and ratio < MIN_DELIVERY_RATIO
    too_late = p95 is not None and p95 > MAX_P95_MS
    return too_little or too_late


def _combined(steps: list[Step]) -> tuple[list[float], int, float, float]:
    """(sorted latencies, delivered, expected, seconds) over every step."""
    latencies = sorted(x for s in steps for x in s.stats.latencies_ms)
    delivered = sum(s.stats.delivered for s in steps)
    expected = sum(s.stats.expected for s in steps)
    seconds = sum(s.stats.seconds for s in steps)
    return latencies, delivered, expected, seconds


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build(result: RunResult) -> dict[str, Any]:
    """The report: every figure the issue asks for, plus what is needed to read it."""
    options, metrics, steps = result.options, result.metrics, result.steps
    latencies, delivered, expected, seconds = _combined(steps)
    rate_key = f"{result.unit}_per_second"
    cpu = [s.cpu_percent for s in steps if s.cpu_percent is not None]
    rss = [s.rss_mb for s in steps if s.rss_mb is not None]
    wall = max(result.ended - result.started, 1e-9)
    report: dict[str, Any] = {
        "mode": options.mode,
        "url": redact(options.url),
        "participants": steps[-1].stats.participants if steps else 0,
        "participants_requested": options.participants,
        "duration_s": round(seconds, 2),
        "bitrate_kbps": options.bitrate_kbps,
        "server_pid": options.server_pid,
        # ramp: weighted by step length (all steps have the same length)
        "server_cpu_percent": _round(_mean(cpu)),
        "server_rss_mb": _round(_mean([r[0] for r in rss])),
        "server_rss_max_mb": _round(max((r[1] for r in rss), default=None)),
        "latency_ms": {
            "p50": _round(percentile(latencies, 0.50)),
            "p95": _round(percentile(latencies, 0.95)),
            "p99": _round(percentile(latencies, 0.99)),
            "max": _round(latencies[-1] if latencies else None),
            "samples": len(latencies),
            "definition": LATENCY_DEFINITION[result.unit],
        },
        "delivered_bytes": metrics.delivered_bytes,
        rate_key: _round(delivered / seconds if seconds else None),
        f"expected_{rate_key}": _round(expected / seconds if seconds else None),
        "delivery_ratio": _round(delivered / expected if expected else None, 3),
        "errors": metrics.error_count,
        "error_messages": dict(metrics.errors),
    }
    if options.mode == "ws":
        report["timeslice_ms"] = options.timeslice_ms
        report["cut"] = options.cut
    else:
        report["audio_frames_per_second"] = _round(metrics.audio_frames / wall)
    if options.ramp:
        first_bad = next((s.stats.participants for s in steps if degraded(s.stats)), None)
        report["ramp"] = {
            "rule": DEGRADATION_RULE,
            "degraded_at": first_bad,
            "steps": [_step(s) for s in steps],
        }
    return report


def _step(step: Step) -> dict[str, Any]:
    stats = step.stats
    return {
        "participants": stats.participants,
        "delivery_ratio": _round(stats.ratio, 3),
        "latency_ms": {
            "p50": _round(stats.latency(0.5)),
            "p95": _round(stats.latency(0.95)),
            "p99": _round(stats.latency(0.99)),
        },
        "server_cpu_percent": _round(step.cpu_percent),
        "server_rss_max_mb": _round(step.rss_mb[1] if step.rss_mb else None),
        "degraded": degraded(stats),
    }


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def _fmt(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def table(report: dict[str, Any]) -> str:
    """The summary printed at the end of a run."""
    latency = report["latency_ms"]
    unit = "chunks" if "chunks_per_second" in report else "frames"
    rows = [
        ("mode", report["mode"]),
        ("participants", report["participants"]),
        ("measured", _fmt(report["duration_s"], " s")),
        ("server CPU", _fmt(report["server_cpu_percent"], " % of one core")),
        ("server memory", _fmt(report["server_rss_max_mb"], " MiB (max RSS)")),
        (
            "latency p50/p95/p99",
            f"{_fmt(latency['p50'])} / {_fmt(latency['p95'])} / {_fmt(latency['p99'])} ms",
        ),
        (
            f"{unit} delivered/s",
            f"{_fmt(report[f'{unit}_per_second'])} of {_fmt(report[f'expected_{unit}_per_second'])}"
            f" expected (ratio {_fmt(report['delivery_ratio'])})",
        ),
        ("delivered", f"{report['delivered_bytes'] / 1e6:.1f} MB"),
        ("errors", report["errors"]),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    for message, count in report["error_messages"].items():
        lines.append(f"{'':<{width}}  {count} x {message}")
    ramp = report.get("ramp")
    if ramp:
        lines.append("")
        lines.append(f"{'room':>4}  {'delivered':>9}  {'p50 ms':>7}  {'p95 ms':>7}  {'CPU %':>6}")
        for step in ramp["steps"]:
            mark = "  degraded" if step["degraded"] else ""
            lines.append(
                f"{step['participants']:>4}  {_fmt(step['delivery_ratio']):>9}  "
                f"{_fmt(step['latency_ms']['p50']):>7}  {_fmt(step['latency_ms']['p95']):>7}  "
                f"{_fmt(step['server_cpu_percent']):>6}{mark}"
            )
        at = ramp["degraded_at"]
        verdict = f"first degraded at {at} participants" if at else "no degradation"
        lines.append(f"{verdict} ({ramp['rule']})")
    return "\n".join(lines)
