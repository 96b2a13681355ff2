"""Firefox pages for the browser tests, with the few Playwright Page methods they use.

Playwright for Python cannot drive a stock Firefox, so Debian's Firefox ESR is
driven by puppeteer-core over WebDriver BiDi from a small Node process
(tests/e2e/firefox/bridge.mjs, installed by `make browser` with `npm ci`).
This module starts it and speaks its JSON-lines protocol; `FirefoxPage` offers
`goto`, `reload`, `evaluate`, `wait_for_function`, `wait_for_timeout` and
`get_by_test_id(...).fill/click` with Playwright's signatures, so
tests/e2e/call.py drives Chromium and Firefox participants alike.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.serverproc import stop_process

BRIDGE_DIR = Path(__file__).resolve().parent / "firefox"
FIREFOX = os.environ.get("ROOMTONE_E2E_FIREFOX") or "/usr/bin/firefox-esr"
# A Firefox call takes longer than its default timeouts under load: be generous.
DEFAULT_TIMEOUT_MS = 20_000
START_TIMEOUT_S = 60.0


class BridgeError(RuntimeError):
    """The bridge answered a request with an error (the message says which)."""


def missing_firefox() -> str | None:
    """Why Firefox tests cannot run here, or None."""
    if not Path(FIREFOX).exists():
        return f"Firefox not found at {FIREFOX}: install Debian's `firefox-esr` package"
    if shutil.which("node") is None:
        return "node not found (Debian's `nodejs`): it runs tests/e2e/firefox/bridge.mjs"
    if not (BRIDGE_DIR / "node_modules" / "puppeteer-core").is_dir():
        return f"puppeteer-core missing: run `npm ci` in {BRIDGE_DIR} (`make browser` does)"
    return None


class FirefoxBridge:
    """One Firefox process behind one Node process; requests are answered in turn."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            ["node", str(BRIDGE_DIR / "bridge.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {}), "ROOMTONE_E2E_FIREFOX": FIREFOX},
        )
        self.log: list[str] = []  # the bridge's stderr: page errors, Firefox's complaints
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        self._lock = threading.Lock()
        self._next = 1
        ready = self._read(START_TIMEOUT_S)
        if not ready.get("ok"):
            raise BridgeError(f"Firefox bridge did not start: {ready}")

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            tail = "".join(self.log[-20:])
            raise BridgeError(f"no answer from the Firefox bridge in {timeout:.0f} s\n{tail}")
        return json.loads(result[0])

    def request(self, op: str, timeout_ms: float = DEFAULT_TIMEOUT_MS, **fields: Any) -> Any:
        with self._lock:
            request_id = self._next
            self._next += 1
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"id": request_id, "op": op, **fields}) + "\n")
            self.proc.stdin.flush()
            # The bridge enforces `timeout_ms`; the margin covers a stuck browser.
            reply = self._read(timeout_ms / 1000 + 30)
        if reply.get("id") != request_id:
            raise BridgeError(f"out-of-order reply {reply!r} to request {request_id}")
        if not reply.get("ok"):
            raise BridgeError(f"{op}: {reply.get('error')}")
        return reply.get("value")

    def new_page(self, *, init_script: str | None = None, viewport: Any = None) -> FirefoxPage:
        page_id = self.request("newPage", initScript=init_script, viewport=viewport)
        return FirefoxPage(self, page_id)

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        stop_process(self.proc, timeout=15)


class FirefoxLocator:
    def __init__(self, page: FirefoxPage, test_id: str) -> None:
        self.page, self.test_id = page, test_id

    def fill(self, value: str) -> None:
        self.page.bridge.request("fill", page=self.page.id, testId=self.test_id, value=value)

    def click(self) -> None:
        self.page.bridge.request("click", page=self.page.id, testId=self.test_id)


class FirefoxPage:
    """The subset of Playwright's sync `Page` that tests/e2e/call.py uses."""

    browser_name = "firefox"

    def __init__(self, bridge: FirefoxBridge, page_id: int) -> None:
        self.bridge, self.id = bridge, page_id
        self.closed = False

    @property
    def url(self) -> str:
        return self.bridge.request("url", page=self.id)

    def goto(self, url: str) -> None:
        self.bridge.request("goto", page=self.id, url=url)

    def reload(self) -> None:
        self.bridge.request("reload", page=self.id)

    def evaluate(self, js: str, arg: Any = None) -> Any:
        return self.bridge.request("evaluate", page=self.id, js=js, arg=arg)

    def wait_for_function(
        self, js: str, arg: Any = None, timeout: float = DEFAULT_TIMEOUT_MS
    ) -> None:
        bridge = self.bridge
        bridge.request("waitForFunction", timeout, page=self.id, js=js, arg=arg, timeout=timeout)

    def wait_for_timeout(self, ms: float) -> None:
        time.sleep(ms / 1000)

    def get_by_test_id(self, test_id: str) -> FirefoxLocator:
        return FirefoxLocator(self, test_id)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bridge.request("closePage", page=self.id)


__all__ = ["BridgeError", "FirefoxBridge", "FirefoxPage", "missing_firefox"]
