"""The call UI in Chromium: join screen, address-bar hygiene, layouts, compatibility, Russian."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.call import join, wait_in_call
from tests.keys import make_token, public_pem
from tests.serverproc import ServerProcess, running_server

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE_PORTRAIT = {"width": 390, "height": 844}
PHONE_LANDSCAPE = {"width": 844, "height": 390}
PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}

REMOVE_MEDIA_APIS = """
for (const name of ['MediaRecorder', 'MediaSource', 'ManagedMediaSource', 'WebKitMediaSource',
                    'RTCPeerConnection', 'webkitRTCPeerConnection']) {
  try { delete window[name]; } catch (e) {}
}
"""


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_name_is_prefilled_from_local_storage(ws_server: ServerProcess, new_page) -> None:
    page = new_page()
    page.goto(ws_server.url)
    page.evaluate("() => localStorage.setItem('roomtone_name', 'Stored Name')")
    page.reload()
    expect(page.get_by_test_id("join-name")).to_have_value("Stored Name")
    expect(page.get_by_test_id("join-name")).to_have_attribute("maxlength", "40")


def test_join_saves_the_name(ws_server: ServerProcess, new_page) -> None:
    page = new_page()
    join(page, ws_server.url, "  Saved Name  ")
    assert page.evaluate("() => localStorage.getItem('roomtone_name')") == "Saved Name"


def test_name_parameter_is_ignored_and_stripped(ws_server: ServerProcess, new_page) -> None:
    page = new_page()
    page.goto(ws_server.url)
    page.evaluate("() => localStorage.setItem('roomtone_name', 'Alice')")
    page.goto(f"{ws_server.url}/?name=Mallory&keep=1")
    expect(page.get_by_test_id("join-name")).to_have_value("Alice")
    assert query(page) == {"keep": ["1"]}

    fresh = new_page()
    fresh.goto(f"{ws_server.url}/?name=Mallory")
    expect(fresh.get_by_test_id("join-name")).to_have_value("")
    expect(fresh.get_by_test_id("join-button")).to_be_disabled()
    assert "name" not in query(fresh)


def test_token_parameter_is_stripped(ws_server: ServerProcess, new_page) -> None:
    page = new_page()
    page.goto(f"{ws_server.url}/?token=abc.def.ghi")
    expect(page.get_by_test_id("join-name")).to_be_visible()
    page.wait_for_function("() => !location.search.includes('token')")
    assert urlsplit(page.url).query == ""
    # The page really was loaded with the token (the server set its cookie from it).
    loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].name")
    assert "token=abc.def.ghi" in loaded


@pytest.mark.parametrize(
    ("mode", "missing"),
    [("ws", ["MediaRecorder", "MediaSource"]), ("webrtc", ["RTCPeerConnection"])],
)
def test_compatibility_message_when_media_apis_are_missing(
    mode: str, missing: list[str], server_for: Callable[[str], ServerProcess], new_context
) -> None:
    context = new_context()
    context.add_init_script(REMOVE_MEDIA_APIS)
    page = context.new_page()
    page.goto(server_for(mode).url)
    page.get_by_test_id("join-name").fill("Old Browser")
    message = page.get_by_test_id("compat-message")
    expect(message).to_be_visible()
    for feature in missing:
        expect(message).to_contain_text(feature)
    expect(message).to_contain_text("Chrome")
    expect(page.get_by_test_id("join-button")).to_be_disabled()


def test_full_browser_sees_no_compatibility_message(ws_server: ServerProcess, new_page) -> None:
    page = new_page()
    page.goto(ws_server.url)
    page.get_by_test_id("join-name").fill("Modern")
    expect(page.get_by_test_id("join-button")).to_be_enabled()
    expect(page.get_by_test_id("compat-message")).to_have_count(0)


def test_russian_copy(ws_server: ServerProcess, new_context) -> None:
    page = new_context(locale="ru-RU").new_page()
    page.goto(ws_server.url)
    assert page.evaluate("() => navigator.language").startswith("ru")
    expect(page.get_by_test_id("join-button")).to_have_text("Войти")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.get_by_test_id("join-name").fill("Маша")
    page.get_by_test_id("join-button").click()
    expect(page.get_by_test_id("leave-button")).to_have_text("Выйти")
    expect(page.get_by_test_id("participant-count")).to_have_text("1 участник")
    expect(page.get_by_test_id("status")).to_contain_text("Подключено")


def test_room_full_error_is_shown(built_web_root, new_page) -> None:
    """The server's `error` (here `Room is full.` then close 1008) is shown, without retrying."""
    env = {
        "MEDIA_TRANSPORT": "ws",
        "ALLOW_INSECURE_HTTP": "true",
        "WEB_ROOT": str(built_web_root),
        "MAX_PARTICIPANTS": "1",
    }
    with running_server(env=env) as server:
        join(new_page(), server.url, "First")
        page = new_page()
        page.goto(server.url)
        page.get_by_test_id("join-name").fill("Second")
        page.get_by_test_id("join-button").click()
        expect(page.get_by_test_id("error")).to_contain_text("Room is full.")
        expect(page.get_by_test_id("join-button")).to_be_visible()


def _two_in_a_room(server: ServerProcess, new_context, **options) -> tuple[Page, Page]:
    other = join(new_context().new_page(), server.url, "Other").page
    page = join(new_context(**options).new_page(), server.url, "Viewer").page
    expect(page.locator('[data-testid="remote-video"]')).to_have_count(1)
    expect(other.locator('[data-testid="remote-video"]')).to_have_count(1)
    return page, other


def test_desktop_layout(ws_server: ServerProcess, new_context) -> None:
    page, _ = _two_in_a_room(ws_server, new_context, viewport=DESKTOP)
    for testid in ("call-header", "participant-count", "status", "controls", "remote-video"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    expect(page.get_by_test_id("participant-count")).to_have_text("2 participants")
    # With others present the local camera is a small preview over the grid.
    expect(page.get_by_test_id("local-tile")).to_have_class(re.compile(r"\bpip\b"))
    local = page.get_by_test_id("local-video").bounding_box()
    remote = page.get_by_test_id("remote-video").bounding_box()
    assert local and remote
    assert local["width"] < DESKTOP["width"] * 0.3
    assert remote["width"] > local["width"] * 2


def test_desktop_alone_shows_the_local_camera_large(ws_server: ServerProcess, new_page) -> None:
    page = join(new_page(viewport=DESKTOP), ws_server.url, "Solo").page
    expect(page.get_by_test_id("local-tile")).not_to_have_class(re.compile(r"\bpip\b"))
    box = page.get_by_test_id("local-video").bounding_box()
    assert box and box["width"] > DESKTOP["width"] * 0.6


def test_phone_portrait_keeps_header_and_controls(ws_server: ServerProcess, new_context) -> None:
    page, _ = _two_in_a_room(ws_server, new_context, viewport=PHONE_PORTRAIT, **PHONE)
    for testid in ("call-header", "participant-count", "controls", "remote-video", "local-video"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    for testid in ("mute-button", "camera-button", "leave-button"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box and box["y"] + box["height"] <= PHONE_PORTRAIT["height"]
    remote = page.get_by_test_id("remote-video").bounding_box()
    assert remote and remote["width"] > PHONE_PORTRAIT["width"] * 0.8


def test_phone_landscape_shows_only_the_video_grid(ws_server: ServerProcess, new_context) -> None:
    page, _ = _two_in_a_room(ws_server, new_context, viewport=PHONE_LANDSCAPE, **PHONE)
    expect(page.get_by_test_id("remote-video")).to_be_visible()
    for testid in ("call-header", "status", "controls"):
        expect(page.get_by_test_id(testid)).to_be_hidden()
    remote = page.get_by_test_id("remote-video").bounding_box()
    assert remote and remote["height"] > PHONE_LANDSCAPE["height"] * 0.9
    # A tap on the videos brings the controls back (so one can leave).
    page.get_by_test_id("video-grid").tap()
    expect(page.get_by_test_id("leave-button")).to_be_visible()


def test_mute_and_camera_buttons_toggle(ws_server: ServerProcess, new_page) -> None:
    page = join(new_page(), ws_server.url, "Toggler").page
    page.get_by_test_id("mute-button").click()
    expect(page.get_by_test_id("mute-button")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("status")).to_contain_text("muted")
    enabled = page.evaluate(
        "() => window.__roomtone.state().localStream.getAudioTracks().map(t => t.enabled)"
    )
    assert enabled == [False]
    page.get_by_test_id("camera-button").click()
    expect(page.get_by_test_id("camera-button")).to_have_attribute("aria-pressed", "true")
    video = page.evaluate(
        "() => window.__roomtone.state().localStream.getVideoTracks()"
        ".map(t => [t.enabled, t.readyState])"
    )
    assert video == [[False, "live"]]
    page.get_by_test_id("leave-button").click()
    expect(page.get_by_test_id("join-button")).to_be_visible()


FAKE_NOTIFICATIONS = """
(() => {
  const shown = [];
  class FakeNotification {
    static permission = 'default';
    static async requestPermission() {
      FakeNotification.permission = 'granted';
      return 'granted';
    }
    constructor(title, options) {
      shown.push({ title, body: options && options.body });
    }
    close() {}
  }
  window.Notification = FakeNotification;
  window.__shownNotifications = shown;
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden' });
})();
"""


def test_notifications_are_opt_in_and_announce_joins(ws_server: ServerProcess, new_context) -> None:
    context = new_context()
    context.add_init_script(FAKE_NOTIFICATIONS)
    page = join(context.new_page(), ws_server.url, "Watcher").page
    offer = page.get_by_test_id("notify-button")
    expect(offer).to_be_visible()
    join(new_context().new_page(), ws_server.url, "Early")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__shownNotifications.length") == 0  # not opted in yet
    offer.click()
    expect(offer).to_have_count(0)
    join(new_context().new_page(), ws_server.url, "Newcomer")
    page.wait_for_function("() => window.__shownNotifications.length > 0")
    shown = page.evaluate("() => window.__shownNotifications")
    assert shown[0]["body"] == "Newcomer joined the call."
    # Asked once: a new page load does not offer it again.
    page.reload()
    wait_in_call(page)
    expect(page.get_by_test_id("notify-button")).to_have_count(0)


def test_invite_link_is_the_page_address(ws_server: ServerProcess, new_context) -> None:
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ws_server.url)
    page = join(context.new_page(), f"{ws_server.url}/?name=Mallory", "Host").page
    page.get_by_test_id("invite-button").click()
    expect(page.get_by_test_id("invite-text")).to_have_attribute("data-shown", "copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{ws_server.url}/"


def test_with_auth_the_invite_button_says_where_links_come_from(built_web_root, new_page) -> None:
    env = {
        "MEDIA_TRANSPORT": "ws",
        "ALLOW_INSECURE_HTTP": "true",
        "WEB_ROOT": str(built_web_root),
        "AUTH_ENABLED": "true",
        "AUTH_PUBLIC_KEYS": public_pem(),
    }
    with running_server(env=env) as server:
        page = join(new_page(), f"{server.url}/?token={make_token()}", "Host").page
        page.get_by_test_id("invite-button").click()
        text = page.get_by_test_id("invite-text")
        expect(text).to_have_attribute("data-shown", "auth")
        expect(text).to_contain_text("Telegram bot")
        expect(text).to_contain_text("roomtone token")


def test_phone_portrait_join_screen_and_shared_screen(
    webrtc_server: ServerProcess, new_context
) -> None:
    """The join screen's preview, pickers and button fit a phone; a shared screen fills
    the top of the stage above the tiles, with the controls still on screen."""
    phone = new_context(viewport=PHONE_PORTRAIT, **PHONE)
    page = phone.new_page()
    page.goto(webrtc_server.url)
    expect(page.get_by_test_id("camera-select")).to_be_visible(timeout=20_000)
    for testid in ("preview", "join-name", "mic-select", "camera-select"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_PORTRAIT["width"]
    page.get_by_test_id("join-name").fill("Phone")
    page.get_by_test_id("join-button").click()
    wait_in_call(page)
    # Phones cannot share a screen; a desktop participant does.
    expect(page.get_by_test_id("screen-button")).to_have_count(
        1 if page.evaluate("() => !!navigator.mediaDevices.getDisplayMedia") else 0
    )
    desktop = join(new_context().new_page(), webrtc_server.url, "Desk").page
    desktop.get_by_test_id("screen-button").click()
    screen = page.get_by_test_id("screen-tile")
    expect(screen).to_be_visible(timeout=20_000)
    tile = page.get_by_test_id("remote-tile")
    box, tile_box = screen.bounding_box(), tile.bounding_box()
    assert box and tile_box
    assert box["width"] > PHONE_PORTRAIT["width"] * 0.9 and box["y"] < tile_box["y"]
    assert tile_box["y"] + tile_box["height"] <= PHONE_PORTRAIT["height"]
    controls = page.get_by_test_id("leave-button").bounding_box()
    assert controls and controls["y"] + controls["height"] <= PHONE_PORTRAIT["height"]


def test_russian_copy_of_the_call_features(ws_server: ServerProcess, new_context) -> None:
    page = new_context(locale="ru-RU").new_page()
    page.goto(ws_server.url)
    expect(page.get_by_test_id("camera-select").locator("xpath=..")).to_contain_text(
        "Камера", timeout=20_000
    )
    expect(page.get_by_test_id("mic-select").locator("xpath=..")).to_contain_text("Микрофон")
    page.get_by_test_id("join-name").fill("Маша")
    page.get_by_test_id("join-button").click()
    wait_in_call(page)
    expect(page.get_by_test_id("screen-button")).to_have_text("Показать экран")
    expect(page.get_by_test_id("devices-button")).to_have_text("Устройства")
    expect(page.get_by_test_id("invite-button")).to_have_text("Скопировать ссылку")
    page.get_by_test_id("screen-button").click()
    expect(page.get_by_test_id("sharing-banner")).to_contain_text(
        "Вы показываете свой экран", timeout=20_000
    )
    expect(page.get_by_test_id("screen-button")).to_have_text("Остановить показ")
