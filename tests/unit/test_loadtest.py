"""`roomtone loadtest` pieces that need no server: arguments, percentiles, windows,
the report, the media stream and its chunking, CPU sampling, progress output."""

from __future__ import annotations

import io
import os
import time

import pytest

from roomtone.cli import build_parser
from roomtone.loadtest import options as opts
from roomtone.loadtest import report as reports
from roomtone.loadtest.cpu import CpuSampler, Sample, check_pid, read_sample
from roomtone.loadtest.metrics import Metrics, percentile
from roomtone.loadtest.progress import Progress
from roomtone.loadtest.runner import RunResult, Step

# --- arguments and URLs -----------------------------------------------------------------


def parse(*argv: str):
    return build_parser().parse_args(["loadtest", *argv])


def test_loadtest_is_registered_with_defaults():
    args = parse("--url", "http://127.0.0.1:5670", "--mode", "ws")
    options = opts.from_namespace(args)
    assert args.func.__name__ == "run_loadtest"
    assert (options.participants, options.duration, options.bitrate_kbps) == (4, 20.0, 600)
    assert (options.timeslice_ms, options.cut, options.ramp) == (200, "anywhere", False)
    assert options.server_pid is None and options.json_path is None
    assert options.video_size == (320, 240)


def test_every_option_parses():
    args = parse(
        "--url=https://call.example/",
        "--mode=sfu",
        "--participants=7",
        "--duration=2.5",
        "--bitrate=300",
        "--server-pid=123",
        "--json=out/r.json",
        "--ramp",
        "--token=abc",
        "--timeslice=100",
        "--cut=elements",
        "--video=640x480",
    )
    options = opts.from_namespace(args)
    assert options.mode == "sfu" and options.participants == 7 and options.duration == 2.5
    assert options.bitrate_kbps == 300 and options.server_pid == 123 and options.ramp
    assert str(options.json_path) == "out/r.json" and options.cut == "elements"
    assert options.video_size == (640, 480)
    assert options.ws_url == "wss://call.example/ws?token=abc"


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "ws"],  # no --url
        ["--url", "http://h", "--mode", "carrier-pigeon"],
        ["--url", "http://h", "--mode", "ws", "--participants", "1"],
        ["--url", "http://h", "--mode", "ws", "--participants", "101"],
        ["--url", "http://h", "--mode", "ws", "--duration", "0"],
        ["--url", "http://h", "--mode", "ws", "--duration", "soon"],
        ["--url", "http://h", "--mode", "ws", "--bitrate", "999999"],
        ["--url", "http://h", "--mode", "ws", "--cut", "sideways"],
        ["--url", "http://h", "--mode", "ws", "--video", "640"],
        ["--url", "http://h", "--mode", "ws", "--video", "641x480"],
        ["--url", "http://h", "--mode", "ws", "--video", "4000x3000"],
    ],
)
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "token", "expected"),
    [
        ("http://127.0.0.1:5670", None, "ws://127.0.0.1:5670/ws"),
        ("http://127.0.0.1:5670/", None, "ws://127.0.0.1:5670/ws"),
        ("https://call.example", None, "wss://call.example/ws"),
        ("https://call.example/room/", None, "wss://call.example/room/ws"),
        ("ws://127.0.0.1:1/ws", None, "ws://127.0.0.1:1/ws"),
        ("http://h?token=old", None, "ws://h/ws?token=old"),
        ("http://h?token=old&x=1", "new", "ws://h/ws?x=1&token=new"),
    ],
)
def test_ws_url(url, token, expected):
    assert opts.ws_url(url, token) == expected


@pytest.mark.parametrize("url", ["ftp://h", "127.0.0.1:5670", "http://"])
def test_ws_url_rejects_non_http(url):
    with pytest.raises(ValueError, match="--url"):
        opts.ws_url(url)


def test_bad_url_exits_2(capsys):
    args = parse("--url", "ftp://h", "--mode", "ws")
    assert args.func(args) == 2
    assert "--url" in capsys.readouterr().err


def test_missing_server_pid_exits_2(capsys):
    args = parse("--url", "http://127.0.0.1:9", "--mode", "ws", "--server-pid", "999999999")
    assert args.func(args) == 2
    assert "--server-pid" in capsys.readouterr().err


def test_redact_hides_tokens():
    assert opts.redact("http://h/?token=secret&a=b") == "http://h/?token=redacted&a=b"


def test_cut_choices_match_the_chunker():
    from roomtone.loadtest import webm

    assert opts.CUTS == webm.CUTS


# --- percentiles and windows ------------------------------------------------------------


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.99) == 7.0
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile([0.0, 10.0], 0.25) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        percentile(values, 1.5)


def test_window_counts_only_units_sent_inside_it():
    metrics = Metrics()
    for sent, arrived in [(0.5, 0.6), (1.0, 1.01), (1.5, 1.52), (2.9, 3.2), (3.0, 3.1)]:
        metrics.delivered(sent, arrived)
    metrics.delivered(0.9, 0.95)  # out of order appends are sorted before windowing
    window = metrics.window(1.0, 3.0, participants=3, units_per_second=5)
    assert window.delivered == 3  # 1.0, 1.5, 2.9
    assert window.expected == pytest.approx(2.0 * 5 * 3 * 2)
    assert window.ratio == pytest.approx(3 / 60)
    assert window.latencies_ms == pytest.approx((10.0, 20.0, 300.0))
    assert window.latency(0.5) == pytest.approx(20.0)


def test_errors_are_counted_and_bounded():
    metrics = Metrics()
    for i in range(30):
        metrics.error(f"kind {i}")
    metrics.error("kind 0")
    assert metrics.error_count == 31
    assert len(metrics.errors) == 21 and metrics.errors["kind 0"] == 2
    assert metrics.errors["other errors"] == 10


# --- report -----------------------------------------------------------------------------


def fake_result(ramp: bool, mode: str = "ws") -> RunResult:
    options = opts.Options(
        url="http://127.0.0.1:1/?token=t",
        mode=mode,
        participants=3,
        duration=4,
        ramp=ramp,
        server_pid=42,
    )
    metrics = Metrics()
    unit = "chunks" if mode == "ws" else "frames"
    result = RunResult(options, metrics, unit, 5.0, started=0.0, ended=10.0)
    # room of 2: 2 s, 20 expected, all delivered fast; room of 3: 2 s, 60 expected, 30 slow
    for i in range(20):
        metrics.delivered(1.0 + i * 0.1, 1.0 + i * 0.1 + 0.01)
    for i in range(30):
        metrics.delivered(4.0 + i * 0.066, 4.0 + i * 0.066 + 0.6)
    metrics.delivered_bytes = 12345
    metrics.error("server: Room is full.")
    windows = [(1.0, 3.0, 2), (4.0, 6.0, 3)] if ramp else [(4.0, 6.0, 3)]
    for start, end, size in windows:
        step = Step(metrics.window(start, end, size, 5.0), cpu_percent=10.0 * size)
        step.rss_mb = (50.0, 50.0 + size)
        result.steps.append(step)
    return result


def test_report_has_every_required_field():
    report = reports.build(fake_result(ramp=False))
    for key in ("mode", "participants", "duration_s", "server_cpu_percent", "latency_ms"):
        assert key in report
    assert set(report["latency_ms"]) >= {"p50", "p95", "p99"}
    assert report["mode"] == "ws" and report["participants"] == 3 and report["duration_s"] == 2.0
    assert report["server_cpu_percent"] == 30.0 and report["server_rss_max_mb"] == 53.0
    assert report["latency_ms"]["p50"] == pytest.approx(600.0, abs=0.2)
    assert report["chunks_per_second"] == 15.0 and report["expected_chunks_per_second"] == 30.0
    assert report["delivery_ratio"] == 0.5
    assert report["delivered_bytes"] == 12345
    assert report["errors"] == 1 and report["error_messages"] == {"server: Room is full.": 1}
    assert report["url"] == "http://127.0.0.1:1/?token=redacted"
    assert "ramp" not in report


def test_report_frames_for_webrtc_modes():
    report = reports.build(fake_result(ramp=False, mode="sfu"))
    assert "frames_per_second" in report and "chunks_per_second" not in report
    assert "audio_frames_per_second" in report


def test_ramp_reports_first_degraded_size():
    report = reports.build(fake_result(ramp=True))
    ramp = report["ramp"]
    assert [s["participants"] for s in ramp["steps"]] == [2, 3]
    assert [s["degraded"] for s in ramp["steps"]] == [False, True]
    assert ramp["degraded_at"] == 3
    assert "90%" in ramp["rule"] and "500 ms" in ramp["rule"]
    text = reports.table(report)
    assert "first degraded at 3 participants" in text
    assert "1 x server: Room is full." in text


def test_degradation_rule():
    metrics = Metrics()
    for i in range(100):
        metrics.delivered(i * 0.01, i * 0.01 + 0.05)
    good = metrics.window(0, 1, 2, 50)  # 100 of 100
    assert not reports.degraded(good)
    assert reports.degraded(metrics.window(0, 1, 3, 50))  # 100 of 300 delivered
    late = Metrics()
    for i in range(100):
        late.delivered(i * 0.01, i * 0.01 + (0.6 if i % 40 == 0 else 0.01))
    assert not reports.degraded(late.window(0, 1, 2, 50))  # p95 still fast
    for i in range(100):
        late.delivered(i * 0.01, i * 0.01 + 0.6)
    assert reports.degraded(late.window(0, 1, 2, 100))


def test_json_report_written(tmp_path):
    path = tmp_path / "sub" / "report.json"
    reports.write_json(reports.build(fake_result(ramp=False)), path)
    assert '"latency_ms"' in path.read_text()


# --- CPU --------------------------------------------------------------------------------


def test_read_sample_of_this_process():
    busy_until = time.process_time() + 0.05
    while time.process_time() < busy_until:
        pass
    sample = read_sample(os.getpid())
    assert sample.cpu_seconds > 0 and sample.rss_bytes > 1024 * 1024
    assert check_pid(os.getpid()) is None
    assert "no process" in (check_pid(999999999) or "")


def test_cpu_percent_over_a_window():
    sampler = CpuSampler(1)
    sampler.samples = [Sample(t, t * 0.25, (100 + t) * 1024 * 1024) for t in range(11)]
    assert sampler.cpu_percent(2, 6) == pytest.approx(25.0)
    assert sampler.rss_mb(2, 4) == (103.0, 104.0)
    assert CpuSampler(1).cpu_percent(0, 1) is None


# --- progress ---------------------------------------------------------------------------


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_plain_lines_when_not_a_tty():
    out = io.StringIO()
    progress = Progress("loadtest ws", 10, out)
    progress.update(1.0, 3, 10, "chunks", 12.0, 0)
    progress.update(1.5, 3, 20, "chunks", 12.0, 0)  # throttled
    progress.finish()
    text = out.getvalue()
    assert "\r" not in text and text.count("\n") == 1
    assert "3 participants" in text and "p50 12 ms" in text


def test_progress_bar_on_a_tty():
    out = Tty()
    progress = Progress("loadtest ws", 10, out)
    progress.update(5.0, 3, 10, "chunks", None, 2)
    progress.message("room of 3")
    progress.finish()
    text = out.getvalue()
    assert "\r" in text and "[############------------]" in text and " 50%" in text
    assert "2 errors" in text and "room of 3\n" in text
