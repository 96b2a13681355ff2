"""Chromium and Firefox participants from one place: `Browsers().page("c" | "f")`.

Chromium is driven by Playwright (one browser, a context per participant);
Firefox by tests/e2e/firefox.py (one browser, a context and window per
participant). Both start on first use. Headless Firefox keeps every
AudioContext suspended without an audio device, so it gets a private
PulseAudio daemon with a null sink (Debian's `pulseaudio`), which the test
probe's WebAudio analysers need to hear remote sound.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SMALL_VIDEO_SCRIPT
from tests.e2e.firefox import FirefoxBridge, FirefoxPage, missing_firefox
from tests.serverproc import stop_process

KINDS = {"c": "chromium", "f": "firefox"}


class NullSink:
    """A PulseAudio daemon of our own with one null sink, on a socket in a temp dir."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="roomtone-pulse-"))
        socket = self.dir / "native"
        env = {**os.environ, "HOME": str(self.dir), "XDG_RUNTIME_DIR": str(self.dir)}
        self.proc = subprocess.Popen(
            [
                "pulseaudio",
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "-L",
                "module-null-sink sink_name=roomtone",
                "-L",
                f"module-native-protocol-unix socket={socket} auth-anonymous=1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.server = f"unix:{socket}"
        deadline = time.monotonic() + 10
        while not socket.exists() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        stop_process(self.proc, timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


class Browsers:
    """Participants' pages in either browser; closes everything on exit."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._chromium: Browser | None = None
        self._firefox: FirefoxBridge | None = None
        self._sink: NullSink | None = None
        self._pages: list[Any] = []

    def __enter__(self) -> Browsers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def firefox_log(self) -> str:
        return "".join(self._firefox.log) if self._firefox else ""

    def page(self, kind: str, *, init_script: str | None = None) -> Page | FirefoxPage:
        """A new participant's page: `c` Chromium, `f` Firefox (small fake camera)."""
        script = SMALL_VIDEO_SCRIPT + (init_script or "")
        if kind == "f":
            page: Any = self._firefox_bridge().new_page(init_script=script, viewport=DESKTOP)
        elif kind == "c":
            context = self._chromium_browser().new_context(viewport=DESKTOP)
            context.add_init_script(script)
            context.set_default_timeout(20_000)
            page = context.new_page()
        else:
            raise ValueError(f"unknown browser {kind!r}")
        self._pages.append(page)
        return page

    def close_page(self, page: Page | FirefoxPage) -> None:
        if isinstance(page, FirefoxPage):
            page.close()
        else:
            page.context.close()
        if page in self._pages:
            self._pages.remove(page)

    def close(self) -> None:
        for page in list(self._pages):
            try:
                self.close_page(page)
            except Exception:  # already gone with its browser
                pass
        if self._firefox is not None:
            self._firefox.close()
            self._firefox = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._chromium is not None:
            self._chromium.close()
            self._chromium = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def _chromium_browser(self) -> Browser:
        if self._chromium is None:
            self._playwright = sync_playwright().start()
            self._chromium = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        return self._chromium

    def _firefox_bridge(self) -> FirefoxBridge:
        if self._firefox is None:
            problem = missing_firefox()
            if problem:
                raise RuntimeError(problem)
            env = {}
            if shutil.which("pulseaudio"):
                self._sink = NullSink()
                env["PULSE_SERVER"] = self._sink.server
            self._firefox = FirefoxBridge(env)
        return self._firefox
