"""Screenshots of the call screens for docs/CALL.md (docs/img/call-*.png).

Run by hand after changing the UI (not part of the test suite):

    make web && tests/isolated.sh .venv/bin/python -m tests.e2e.screenshots

Four participants in webrtc mode with Chromium's fake devices: Alice shares
her screen, Bob talks, Carol is muted with her camera off; Dan watches on a
phone, in Russian.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.call import wait_in_call
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SMALL_VIDEO_SCRIPT, web_root
from tests.serverproc import ROOT, running_server

OUT = ROOT / "docs" / "img"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def enter(page: Page, url: str, name: str) -> Page:
    page.goto(url)
    expect(page.get_by_test_id("camera-select")).to_be_visible()
    page.get_by_test_id("join-name").fill(name)
    page.get_by_test_id("join-button").click()
    wait_in_call(page)
    return page


def shoot(page: Page, name: str) -> Path:
    path = OUT / name
    page.screenshot(path=str(path))
    return path


def main() -> None:
    expect.set_options(timeout=20_000)
    env = {"MEDIA_TRANSPORT": "webrtc", "ALLOW_INSECURE_HTTP": "true", "WEB_ROOT": str(web_root())}
    with running_server(env=env) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        def context(**options: object):
            options.setdefault("viewport", DESKTOP)
            ctx = browser.new_context(**options)
            ctx.add_init_script(SMALL_VIDEO_SCRIPT)
            # No "notify me" offer in the pictures.
            ctx.add_init_script("localStorage.setItem('roomtone_notifications_asked', '1')")
            return ctx

        # The join screen: preview, microphone level, pickers.
        alice = context().new_page()
        alice.goto(server.url)
        expect(alice.get_by_test_id("mic-level")).to_have_attribute("data-active", "true")
        alice.get_by_test_id("join-name").fill("Alice")
        alice.wait_for_timeout(500)
        written = [shoot(alice, "call-join.png")]
        alice.get_by_test_id("join-button").click()
        wait_in_call(alice)

        bob = enter(context().new_page(), server.url, "Bob")
        carol = enter(context().new_page(), server.url, "Carol")
        carol.get_by_test_id("mute-button").click()
        carol.get_by_test_id("camera-button").click()
        alice.get_by_test_id("screen-button").click()
        dan = enter(context(locale="ru-RU", **PHONE).new_page(), server.url, "Даня")

        for page in (bob, dan):
            expect(page.get_by_test_id("screen-tile")).to_be_visible()
            page.wait_for_function(
                "() => document.querySelector('[data-testid=screen-video]').videoWidth > 0"
            )
            expect(page.locator('[data-testid="remote-tile"][data-mic="off"]')).to_have_count(1)
        bob.wait_for_timeout(1500)
        written.append(shoot(bob, "call-desktop.png"))
        dan.wait_for_timeout(500)
        written.append(shoot(dan, "call-phone.png"))

        bob.get_by_test_id("devices-button").click()
        bob.wait_for_timeout(800)
        written.append(shoot(bob, "call-devices.png"))
        browser.close()
    for path in written:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
