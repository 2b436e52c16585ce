"""The web client in a real browser: signing up, following, posting, live notifications."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import OpenPage
from tests.harness import TEST_PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def unique_username(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sign_up(page: Page, base_url: str, username: str, display_name: str = "") -> None:
    page.goto(f"{base_url}/signup")
    page.get_by_label("Username").fill(username)
    if display_name:
        page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()


def remember_this_document(page: Page) -> None:
    """Marks the loaded document, so a later check can tell that no reload happened."""
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def test_a_follower_sees_posts_and_the_followed_person_is_notified_live(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    ada_name, ben_name = unique_username("ada"), unique_username("ben")
    # Markup in a display name must come out as the same text, never as HTML.
    ada_display = "Ada <b>Example</b>"
    ada, ben = open_page(), open_page()

    sign_up(ada, base, ada_name, ada_display)
    expect(ada.get_by_role("status").filter(has_text="Live updates")).to_have_text(
        "Live updates: Live"
    )
    remember_this_document(ada)

    sign_up(ben, base, ben_name)
    ben.goto(f"{base}/u/{ada_name}")
    expect(ben.get_by_role("heading", level=1)).to_have_text(ada_display)
    expect(ben.get_by_role("heading", level=1).locator("b")).to_have_count(0)
    followers = ben.get_by_role("link", name=re.compile(r"^\d+ Followers?$"))
    expect(followers).to_have_text("0 Followers")
    remember_this_document(ben)
    ben.get_by_role("button", name="Follow", exact=True).click()
    expect(followers).to_have_text("1 Follower")
    expect(ben.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    assert_not_reloaded(ben)

    # Ada's badge changes from the WebSocket alone: her page was never reloaded.
    expect(ada.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    ada.get_by_role("link", name=re.compile(r"^Notifications")).click()
    notifications = ada.get_by_role("list", name="Notifications")
    expect(notifications.get_by_role("listitem")).to_have_text(
        re.compile(rf"@{ben_name} followed you")
    )
    expect(ada.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    assert_not_reloaded(ada)

    ada.get_by_role("link", name="Home").click()
    text = f"Hello from {ada_name}!\nA second line."
    ada.get_by_role("textbox", name="Write a post").fill(text)
    ada.get_by_role("button", name="Post", exact=True).click()
    ada_timeline = ada.get_by_role("list", name="Timeline")
    expect(ada_timeline.get_by_role("article").first).to_contain_text(f"Hello from {ada_name}!")
    expect(ada.get_by_role("textbox", name="Write a post")).to_have_value("")
    assert_not_reloaded(ada)

    ben.get_by_role("link", name="Home").click()
    first_post = ben.get_by_role("list", name="Timeline").get_by_role("article").first
    expect(first_post).to_contain_text(ada_display)
    expect(first_post.get_by_role("paragraph")).to_have_text(text)


def test_a_bad_login_shows_the_server_message_and_long_posts_cannot_be_sent(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    page = open_page()

    page.goto(f"{base}/home")
    expect(page).to_have_url(f"{base}/login?next=%2Fhome")
    nobody = unique_username("nobody")
    page.get_by_label("Username").fill(nobody)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    with httpx.Client(base_url=base) as client:
        answer = client.post(
            "/api/v1/auth/login", json={"username": nobody, "password": "not the password"}
        )
    assert answer.status_code == 401
    expect(page.get_by_role("alert")).to_have_text(answer.json()["error"]["message"])

    sign_up(page, base, unique_username("cat"))
    composer = page.get_by_role("textbox", name="Write a post")
    post_button = page.get_by_role("button", name="Post", exact=True)
    expect(post_button).to_be_disabled()
    # Emoji are one character each, as the server counts them (code points, not UTF-16 units).
    composer.fill("🎉" * 280)
    expect(page.get_by_text("280/280")).to_be_visible()
    expect(post_button).to_be_enabled()
    composer.press("End")
    composer.press_sequentially("!")
    expect(page.get_by_text("281/280")).to_be_visible()
    expect(post_button).to_be_disabled()
    composer.press("Control+Enter")
    expect(page.get_by_text("Nothing here yet.", exact=False)).to_be_visible()
    expect(page.get_by_role("list", name="Timeline").get_by_role("article")).to_have_count(0)
