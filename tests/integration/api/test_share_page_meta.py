"""A Space's share page unfurls: Open Graph and Twitter Card tags in the served HTML."""

import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from PIL import Image

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, open_space


class MetaTags(HTMLParser):
    """Collects <meta property|name=... content=...> and every <script> the page holds."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta":
            key = found.get("property") or found.get("name")
            if key:
                self.meta[key] = found.get("content") or ""
        elif tag == "script":
            self.scripts.append(found)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def share_page(server: LiveServer, space_id: str) -> tuple[str, MetaTags]:
    with server.client() as client:
        response = client.get(f"/s/{space_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parsed = MetaTags()
    parsed.feed(response.text)
    return response.text, parsed


def test_a_live_space_unfurls_with_title_host_and_listeners(
    server: LiveServer, alice: Account
) -> None:
    call(alice, "PATCH", "/api/v1/me", json={"display_name": "Alice Host"})
    space = open_space(alice, title="Morning show")
    _, page = share_page(server, space["id"])
    assert page.meta["og:title"] == "Morning show"
    assert page.meta["twitter:title"] == "Morning show"
    assert page.meta["twitter:card"] == "summary"
    assert page.meta["og:url"].endswith(f"/s/{space['id']}")
    assert "Hosted by Alice Host" in page.meta["og:description"]
    assert "Live now" in page.meta["og:description"]
    assert page.meta["townhall:space_state"] == "live"
    assert page.title == "Morning show · Townhall"


def test_scheduled_and_ended_spaces_say_so(server: LiveServer, alice: Account) -> None:
    start = (datetime.now(UTC) + timedelta(days=10)).replace(hour=15, minute=30, second=0)
    scheduled = open_space(alice, title="Later", scheduled_start=start.isoformat())
    _, page = share_page(server, scheduled["id"])
    assert page.meta["townhall:space_state"] == "scheduled"
    assert f"Scheduled for {start:%d %b %Y}, 15:30 UTC" in page.meta["og:description"]
    live = open_space(alice, title="Now")
    call(alice, "POST", f"/api/v1/spaces/{live['id']}/end")
    _, page = share_page(server, live["id"])
    assert page.meta["townhall:space_state"] == "ended"
    assert "Ended" in page.meta["og:description"]


def test_a_hostile_title_and_name_are_escaped(server: LiveServer, alice: Account) -> None:
    hostile = '"><script>alert(1)</script><meta property="og:title" content="pwned'
    call(alice, "PATCH", "/api/v1/me", json={"display_name": "<img src=x onerror=alert(2)>"})
    space = open_space(alice, title=hostile[:100])
    html, page = share_page(server, space["id"])
    assert page.meta["og:title"] == hostile[:100]
    assert "<img src=x onerror=alert(2)>" in page.meta["og:description"]
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert all(script.get("src") for script in page.scripts)  # no inline script got in


def test_an_unknown_space_gets_the_plain_shell(server: LiveServer) -> None:
    for bogus in ("999999999999", "not-an-id"):
        html, page = share_page(server, bogus)
        assert "og:title" not in page.meta
        assert "Loading Townhall" in html


def test_the_preview_image_is_the_hosts_avatar_as_an_absolute_url(
    server: LiveServer, alice: Account
) -> None:
    source = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 130, 90)).save(source, format="PNG")
    uploaded = call(
        alice,
        "PUT",
        "/api/v1/me/avatar",
        content=source.getvalue(),
        headers={"Content-Type": "image/png"},
    )
    assert uploaded.status_code == 200
    space = open_space(alice)
    _, page = share_page(server, space["id"])
    assert page.meta["og:image"] == server.url + uploaded.json()["avatar_url"]
    assert page.meta["twitter:image"] == page.meta["og:image"]
