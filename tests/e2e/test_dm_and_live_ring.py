"""Direct messages, Space cards and the live ring in real browsers."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import OpenPage
from tests.harness import TEST_PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sign_up(page: Page, base_url: str, username: str) -> None:
    """Signs up through the API inside the page's context, so its cookies log the page in."""
    response = page.request.post(
        f"{base_url}/api/v1/auth/signup",
        data={"username": username, "password": TEST_PASSWORD, "session": "cookie"},
    )
    assert response.status == 201, response.text()


def api_post(page: Page, url: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A write as the page's user (its cookie and CSRF token)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "townhall_csrf")
    response = page.request.post(url, data=data, headers={"X-CSRF-Token": csrf})
    assert response.ok, response.text()
    body: dict[str, Any] = response.json() if response.status != 204 else {}
    return body


def test_a_space_shared_by_message_shows_a_live_card_whose_join_opens_the_room(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, guest_name = unique("host"), unique("guest")
    title = f"Share me {uuid.uuid4().hex[:6]}"
    host, guest = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(guest, base, guest_name)
    api_post(host, f"{base}/api/v1/users/{guest_name}/follow")
    space = api_post(host, f"{base}/api/v1/spaces", {"title": title})

    host.goto(f"{base}/s/{space['id']}")
    expect(host.get_by_role("heading", level=1)).to_have_text(title)
    host.get_by_role("button", name="Share").click()
    dialog = host.get_by_role("dialog", name="Share this Space")
    dialog.get_by_label(re.compile(f"@{guest_name}")).check()
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_role("status").filter(has_text="Sent to")).to_have_text(
        "Sent to 1 person."
    )

    guest.goto(f"{base}/messages")
    guest.get_by_role("link", name=re.compile(f"^{host_name} @")).click()
    card = guest.get_by_role("article", name=f"Space: {title}")
    expect(card).to_contain_text("Live")
    expect(card).to_contain_text(f"Hosted by {host_name}")
    expect(card).to_contain_text("listening")
    card.get_by_role("link", name="Join").click()

    expect(guest.get_by_role("heading", level=1)).to_have_text(title)
    listeners = guest.get_by_role("list", name=re.compile(r"^Listeners"))
    expect(listeners.get_by_role("listitem").filter(has_text=guest_name)).to_be_visible()

    # Back in the conversation, the card follows the Space: it ends while on screen.
    guest.go_back()
    card = guest.get_by_role("article", name=f"Space: {title}")
    expect(card.get_by_role("link", name="Join")).to_be_visible()
    api_post(host, f"{base}/api/v1/spaces/{space['id']}/end")
    expect(card).to_contain_text("Ended")
    expect(card.get_by_role("link", name="Join")).to_have_count(0)


def test_a_message_arrives_live_and_its_text_is_never_html(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    ada_name, ben_name = unique("ada"), unique("ben")
    ada, ben = open_page(), open_page()
    sign_up(ada, base, ada_name)
    sign_up(ben, base, ben_name)
    conversation = api_post(ben, f"{base}/api/v1/conversations", {"username": ada_name})

    ada.goto(f"{base}/messages/{conversation['id']}")
    expect(ada.get_by_role("heading", level=1)).to_have_text(ben_name)
    hostile = "<img src=x onerror=alert(1)> hi"
    ben.goto(f"{base}/messages/{conversation['id']}")
    ben.get_by_label("Message", exact=True).fill(hostile)
    ben.get_by_role("button", name="Send").click()
    messages = ada.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem").filter(has_text="hi")).to_contain_text(hostile)
    expect(messages.locator("img[src=x]")).to_have_count(0)


def test_the_ring_shows_on_a_live_hosts_avatar_joins_on_click_and_goes_when_it_ends(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, fan_name = unique("host"), unique("fan")
    title = f"Ring {uuid.uuid4().hex[:6]}"
    host, fan = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(fan, base, fan_name)
    api_post(fan, f"{base}/api/v1/users/{host_name}/follow")
    api_post(host, f"{base}/api/v1/posts", {"text": "going live soon"})
    space = api_post(host, f"{base}/api/v1/spaces", {"title": title})
    api_post(host, f"{base}/api/v1/posts", {"text": f"come in: {base}/s/{space['id']}"})

    fan.goto(f"{base}/home")
    linked = fan.locator("article.post").filter(has_text="come in:")
    expect(linked.get_by_role("article", name=f"Space: {title}")).to_contain_text("listening")
    post = fan.locator("article.post").filter(has_text="going live soon")
    ring = post.get_by_role("link", name=f"{host_name} is live: join their Space")
    expect(ring).to_be_visible()
    live_row = fan.get_by_role("list", name="Live now from people you follow")
    expect(live_row.get_by_role("listitem").filter(has_text=title)).to_be_visible()
    ring.click()
    expect(fan.get_by_role("heading", level=1)).to_have_text(title)

    fan.go_back()
    post = fan.locator("article.post").filter(has_text="going live soon")
    expect(post.get_by_role("link", name=f"{host_name} is live: join their Space")).to_be_visible()
    api_post(host, f"{base}/api/v1/spaces/{space['id']}/end")
    # The ring comes off on its own (rings are checked every 10 s), no reload needed.
    expect(post.get_by_role("link", name=re.compile("is live"))).to_have_count(0, timeout=25_000)
    fan.reload()
    post = fan.locator("article.post").filter(has_text="going live soon")
    expect(post.get_by_role("link", name=re.compile(host_name))).to_be_visible()
    expect(post.get_by_role("link", name=re.compile("is live"))).to_have_count(0)
    expect(fan.get_by_role("list", name="Live now from people you follow")).to_be_hidden()


def test_a_host_invites_a_follower_to_speak_by_message_and_they_accept_from_it(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, guest_name = unique("host"), unique("guest")
    title = f"Panel {uuid.uuid4().hex[:6]}"
    host, guest = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(guest, base, guest_name)
    api_post(guest, f"{base}/api/v1/users/{host_name}/follow")  # a follower of the host
    space = api_post(host, f"{base}/api/v1/spaces", {"title": title})
    guest.goto(f"{base}/home")
    messages_link = guest.get_by_role("link", name=re.compile(r"^Messages"))
    expect(messages_link).to_have_accessible_name("Messages")

    host.goto(f"{base}/s/{space['id']}")
    expect(host.get_by_role("heading", level=1)).to_have_text(title)
    host.get_by_role("button", name="Share").click()
    dialog = host.get_by_role("dialog", name="Share this Space")
    dialog.get_by_label(re.compile(f"@{guest_name}")).check()
    dialog.get_by_label("Invite them to speak").check()
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_role("status").filter(has_text="Sent to")).to_have_text(
        "Sent to 1 person."
    )

    # Live, from the event stream.
    expect(messages_link).to_have_accessible_name(re.compile(r"^Messages\s*1 unread$"))
    messages_link.click()
    guest.get_by_role("link", name=re.compile(f"^{host_name} @")).click()
    expect(guest.get_by_text("Invited you to speak.")).to_be_visible()
    card = guest.get_by_role("article", name=f"Space: {title}")
    card.get_by_role("button", name="Accept: speak").click()
    expect(guest.get_by_role("heading", level=1)).to_have_text(title)
    tile = (
        guest.get_by_role("list", name="Stage").get_by_role("listitem").filter(has_text=guest_name)
    )
    expect(tile).to_contain_text("Speaker")
    expect(messages_link).to_have_accessible_name("Messages")  # read once seen


def test_posting_a_space_from_share_puts_its_card_in_followers_timelines(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, fan_name = unique("host"), unique("fan")
    title = f"Posted {uuid.uuid4().hex[:6]}"
    host, fan = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(fan, base, fan_name)
    api_post(fan, f"{base}/api/v1/users/{host_name}/follow")
    space = api_post(host, f"{base}/api/v1/spaces", {"title": title})

    host.goto(f"{base}/s/{space['id']}")
    expect(host.get_by_role("heading", level=1)).to_have_text(title)
    host.get_by_role("button", name="Share").click()
    dialog = host.get_by_role("dialog", name="Share this Space")
    dialog.get_by_role("button", name="Post it").click()
    expect(dialog.get_by_role("status").filter(has_text="Posted")).to_be_visible()

    fan.goto(f"{base}/home")
    card = fan.locator("article.post").get_by_role("article", name=f"Space: {title}")
    expect(card).to_contain_text("Live")
    expect(card.get_by_role("link", name="Join")).to_be_visible()


def test_a_scheduled_space_card_offers_a_reminder(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, fan_name = unique("host"), unique("fan")
    title = f"Later {uuid.uuid4().hex[:6]}"
    host, fan = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(fan, base, fan_name)
    api_post(fan, f"{base}/api/v1/users/{host_name}/follow")
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    space = api_post(host, f"{base}/api/v1/spaces", {"title": title, "scheduled_start": start})
    api_post(host, f"{base}/api/v1/posts", {"text": "save the date", "space_id": space["id"]})

    fan.goto(f"{base}/home")
    card = fan.locator("article.post").get_by_role("article", name=f"Space: {title}")
    expect(card).to_contain_text(f"Hosted by {host_name}")
    card.get_by_role("button", name="Set reminder").click()
    expect(card.get_by_role("button", name="Reminder set")).to_be_disabled()


def test_a_post_shared_in_a_room_shows_the_card_of_another_space_it_links(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    here_title, there_title = f"Here {uuid.uuid4().hex[:6]}", f"There {uuid.uuid4().hex[:6]}"
    ada, ben = open_page(), open_page()
    sign_up(ada, base, unique("ada"))
    sign_up(ben, base, unique("ben"))
    here = api_post(ada, f"{base}/api/v1/spaces", {"title": here_title})
    there = api_post(ben, f"{base}/api/v1/spaces", {"title": there_title})
    api_post(
        ada,
        f"{base}/api/v1/posts",
        {"text": f"also live: {base}/s/{there['id']}", "space_id": here["id"]},
    )

    ada.goto(f"{base}/s/{here['id']}")
    expect(ada.get_by_role("heading", level=1)).to_have_text(here_title)
    shared = ada.locator("article.post").filter(has_text="also live:")
    expect(shared.get_by_role("article", name=f"Space: {there_title}")).to_contain_text("Live")
    expect(shared.get_by_role("article", name=f"Space: {here_title}")).to_have_count(0)
