"""`roomtone loadtest` end to end: the real CLI against a real server subprocess in
each mode, briefly, checking the JSON report (figures are measured, not asserted
beyond "media flowed")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.keys import make_token, public_pem
from tests.serverproc import ROOT, running_server

REQUIRED = ("mode", "participants", "duration_s", "server_cpu_percent", "delivered_bytes", "errors")


def loadtest(url: str, pid: int, out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "roomtone", "loadtest", "--url", url]
    proc = subprocess.run(
        [*command, "--server-pid", str(pid), "--json", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, report, proc.stdout + proc.stderr


def check_report(report: dict[str, Any], mode: str, participants: int, unit: str) -> None:
    for key in REQUIRED:
        assert key in report, key
    assert report["mode"] == mode
    assert report["participants"] == participants
    assert report["errors"] == 0, report["error_messages"]
    assert report["delivered_bytes"] > 0
    assert report[f"{unit}_per_second"] > 0
    assert report["delivery_ratio"] >= 0.8, report
    assert report["server_cpu_percent"] is not None and report["server_cpu_percent"] >= 0
    assert report["server_rss_max_mb"] > 10
    latency = report["latency_ms"]
    assert latency["p50"] is not None and latency["p50"] <= latency["p95"] <= latency["p99"]


def test_ws_mode(tmp_path):
    out = tmp_path / "ws.json"
    with running_server({"MEDIA_TRANSPORT": "ws"}) as server:
        code, report, output = loadtest(
            server.url, server.proc.pid, out, "--mode", "ws", "--participants", "3",
            "--duration", "2",
        )  # fmt: skip
    assert code == 0, output
    check_report(report, "ws", 3, "chunks")
    assert report["expected_chunks_per_second"] == pytest.approx(3 * 2 * 5)
    assert "latency p50/p95/p99" in output  # the summary table
    assert "\r" not in output  # no progress bar when stderr is not a terminal


def test_sfu_mode(tmp_path):
    out = tmp_path / "sfu.json"
    try:
        server_context = running_server({"MEDIA_TRANSPORT": "sfu"})
        server = server_context.__enter__()
    except RuntimeError as exc:
        if "sfu is not available" in str(exc):
            pytest.skip("this server build answers that MEDIA_TRANSPORT=sfu is not available")
        raise
    try:
        code, report, output = loadtest(
            server.url, server.proc.pid, out, "--mode", "sfu", "--participants", "3",
            "--duration", "3",
        )  # fmt: skip
    finally:
        server_context.__exit__(None, None, None)
    assert code == 0, output
    check_report(report, "sfu", 3, "frames")
    assert report["audio_frames_per_second"] > 0


def test_webrtc_mesh_mode(tmp_path):
    out = tmp_path / "webrtc.json"
    with running_server({"MEDIA_TRANSPORT": "webrtc"}) as server:
        code, report, output = loadtest(
            server.url, server.proc.pid, out, "--mode", "webrtc", "--participants", "2",
            "--duration", "2",
        )  # fmt: skip
    assert code == 0, output
    check_report(report, "webrtc", 2, "frames")


def test_ws_ramp_with_auth_token_in_url(tmp_path):
    out = tmp_path / "ramp.json"
    env = {"AUTH_ENABLED": "true", "AUTH_PUBLIC_KEYS": public_pem()}
    with running_server(env) as server:
        url = f"{server.url}/?token={make_token()}"
        code, report, output = loadtest(
            url, server.proc.pid, out, "--mode", "ws", "--participants", "3",
            "--duration", "2", "--ramp",
        )  # fmt: skip
    assert code == 0, output
    check_report(report, "ws", 3, "chunks")
    ramp = report["ramp"]
    assert [step["participants"] for step in ramp["steps"]] == [2, 3]
    assert "degraded_at" in ramp and "p95" in ramp["rule"]
    assert "token=redacted" in report["url"]


def test_wrong_mode_and_refused_auth_fail_clearly(tmp_path):
    with running_server({"AUTH_ENABLED": "true", "AUTH_PUBLIC_KEYS": public_pem()}) as server:
        code, _, output = loadtest(
            server.url, server.proc.pid, tmp_path / "a.json", "--mode", "ws", "--duration", "1"
        )
        assert code == 1 and "No token" in output and "--token" in output
        code, _, output = loadtest(
            server.url, server.proc.pid, tmp_path / "b.json", "--mode", "sfu", "--duration", "1",
            "--token", make_token(),
        )  # fmt: skip
        assert code == 1 and "MEDIA_TRANSPORT=ws" in output
