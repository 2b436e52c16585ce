"""Text people type is shown as text (issue #8): a Space title, a bio, a display name, a
post, a poll question and option made of HTML render literally, run nothing, and the
pages raise no Content-Security-Policy violation."""

import uuid
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import OpenPage
from tests.harness import LiveServer

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__pwned=1">'
SHORT_PAYLOAD = "<svg onload=__pwned=1>"  # poll options are at most 25 characters

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _api(page: Page, base: str, method: str, path: str, data: dict[str, Any]) -> Any:
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "townhall_csrf")
    response = page.request.fetch(
        f"{base}{path}", method=method, data=data, headers={"X-CSRF-Token": csrf}
    )
    assert response.ok, response.text()
    return response.json() if response.text() else None


def _watched(page: Page, console: list[str]) -> Page:
    page.add_init_script(WATCH_CSP)
    page.on(
        "console",
        lambda message: console.append(message.text) if _is_csp(message) else None,
    )
    return page


def _is_csp(message: ConsoleMessage) -> bool:
    return "Content Security Policy" in message.text or "Content-Security-Policy" in message.text


def _nothing_ran(page: Page) -> None:
    assert page.evaluate("window.__pwned") is None
    # Not merely stopped by the CSP: no element was made from the text at all.
    assert page.locator("img[src='x'], svg[onload], [onerror]").count() == 0
    assert page.evaluate("window.__csp") == []


def test_html_in_titles_bios_posts_and_polls_renders_as_text(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    console: list[str] = []
    page = _watched(open_page(), console)
    username = f"x{uuid.uuid4().hex[:10]}"
    response = page.request.post(
        f"{base}/api/v1/auth/signup",
        data={"username": username, "password": "correct horse battery", "session": "cookie"},
    )
    assert response.status == 201, response.text()
    _api(page, base, "PATCH", "/api/v1/me", {"display_name": PAYLOAD, "bio": PAYLOAD})
    space = _api(page, base, "POST", "/api/v1/spaces", {"title": PAYLOAD})
    _api(page, base, "POST", "/api/v1/posts", {"text": PAYLOAD, "space_id": space["id"]})
    _api(
        page,
        base,
        "POST",
        f"/api/v1/spaces/{space['id']}/polls",
        {"question": PAYLOAD, "options": [SHORT_PAYLOAD, "fine"], "duration_s": 300},
    )

    page.goto(f"{base}/s/{space['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PAYLOAD)
    expect(page.get_by_text(SHORT_PAYLOAD, exact=True).first).to_be_visible()
    expect(page.get_by_text(PAYLOAD, exact=True).nth(1)).to_be_attached()  # poll, posts, people
    _nothing_ran(page)

    page.goto(f"{base}/u/{username}")
    expect(page.get_by_text(PAYLOAD, exact=True).first).to_be_visible()
    expect(page.get_by_text(PAYLOAD, exact=True).nth(2)).to_be_attached()  # name, bio, post
    _nothing_ran(page)

    for path in ("/home", "/spaces"):
        page.goto(f"{base}{path}")
        expect(page.get_by_text(PAYLOAD, exact=True).first).to_be_visible()
        _nothing_ran(page)
    assert console == []


def test_the_main_pages_raise_no_csp_violation(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    """Every page of the client, logged out and in, under the real policy."""
    base = sqlite_server.url
    console: list[str] = []
    page = _watched(open_page(), console)
    for path in ("/", "/login", "/signup"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    username = f"c{uuid.uuid4().hex[:10]}"
    page.request.post(
        f"{base}/api/v1/auth/signup",
        data={"username": username, "password": "correct horse battery", "session": "cookie"},
    )
    space = _api(page, base, "POST", "/api/v1/spaces", {"title": "Policy check"})
    _api(page, base, "POST", f"/api/v1/spaces/{space['id']}/reactions", {"emoji": "👏"})
    for path in (
        "/home",
        "/spaces",
        "/notifications",
        "/messages",
        "/settings",
        f"/u/{username}",
        f"/s/{space['id']}",
    ):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".boot-note")).to_have_count(0)  # the client took over
        assert page.evaluate("window.__csp") == [], path
    assert console == []
