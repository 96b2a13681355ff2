"""Browser end-to-end fixtures: one headless Debian Chromium per test module, real servers.

Each participant is a separate browser context (own storage, own fake camera);
servers are started per media mode and shared by the tests of a session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.serverproc import ROOT, ServerProcess, start_server

CHROMIUM = (
    os.environ.get("ROOMTONE_E2E_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    # More than one fake camera and microphone, so the device pickers have a choice.
    # Chromium's fake_device_1 is a depth camera (Y16) that WebRTC cannot encode;
    # fake_device_0 (I420) and fake_device_2 (MJPEG) are ordinary ones.
    "--use-fake-device-for-media-stream=device-count=3",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # Background contexts must keep decoding and timers at full rate.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    # tests/isolated.sh leaves only loopback: let WebRTC gather loopback candidates
    # (Chromium ignores loopback interfaces otherwise) and never ask for mDNS names.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
# Small capture keeps three participants cheap on a 2-core machine.
SMALL_VIDEO_SCRIPT = (
    "window.__roomtoneVideoConstraints = "
    "{width: {ideal: 320}, height: {ideal: 240}, frameRate: {ideal: 15}};"
    # A shared screen (Chromium's fake one is 1280x720 at 30 fps) kept as cheap.
    "window.__roomtoneScreenConstraints = "
    "{width: {max: 640}, height: {max: 360}, frameRate: {max: 5}};"
)
DESKTOP = {"width": 1280, "height": 800}


def web_root() -> Path:
    built = Path(os.environ.get("ROOMTONE_E2E_WEB_ROOT", ROOT / "roomtone" / "static"))
    return built


@pytest.fixture(scope="session")
def built_web_root() -> Path:
    root = web_root()
    if not (root / "index.html").is_file():
        pytest.fail(f"no built web client in {root}: run `make web` (or `cd web && npm run build`)")
    return root


# Module scope, not session: while sync Playwright runs, its event loop counts as
# running in this thread, which would break every asyncio test collected after us.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _server(mode: str, web: Path) -> Iterator[ServerProcess]:
    env = {"MEDIA_TRANSPORT": mode, "ALLOW_INSECURE_HTTP": "true", "WEB_ROOT": str(web)}
    try:
        server = start_server(env=env)
    except RuntimeError as exc:
        if mode == "sfu" and "not available" in str(exc):
            pytest.skip("the server reports that MEDIA_TRANSPORT=sfu is not available yet")
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ws_server(built_web_root: Path) -> Iterator[ServerProcess]:
    yield from _server("ws", built_web_root)


@pytest.fixture(scope="session")
def webrtc_server(built_web_root: Path) -> Iterator[ServerProcess]:
    yield from _server("webrtc", built_web_root)


@pytest.fixture(scope="session")
def sfu_server(built_web_root: Path) -> Iterator[ServerProcess]:
    yield from _server("sfu", built_web_root)


@pytest.fixture
def server_for(request: pytest.FixtureRequest) -> Callable[[str], ServerProcess]:
    """The shared server of a media mode, started on first use."""

    def get(mode: str) -> ServerProcess:
        return request.getfixturevalue(f"{mode}_server")

    return get


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Contexts made by a test are closed after it (a closed context = a participant gone)."""
    contexts: list[BrowserContext] = []

    def make(*, small_video: bool = True, **options: object) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        if small_video:
            context.add_init_script(SMALL_VIDEO_SCRIPT)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        try:
            context.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
def new_page(new_context: NewContext) -> Callable[..., Page]:
    def make(**options: object) -> Page:
        return new_context(**options).new_page()

    return make
