"""A Space in real browsers: the stage and its moderation, reactions, a poll, the share page."""

import re
import uuid

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

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


def start_space(page: Page, base_url: str, title: str) -> str:
    """Creates a live Space as the page's user and opens its room; returns its id."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "townhall_csrf")
    response = page.request.post(
        f"{base_url}/api/v1/spaces", data={"title": title}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 201, response.text()
    space_id: str = response.json()["id"]
    page.goto(f"{base_url}/s/{space_id}")
    return space_id


def enter_room(page: Page, base_url: str, space_id: str, title: str) -> None:
    page.goto(f"{base_url}/s/{space_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("status").filter(has_text="Room connection")).to_have_text(
        "Room connection: Live"
    )


def stage_tile(page: Page, username: str) -> Locator:
    return page.get_by_role("list", name="Stage").get_by_role("listitem").filter(has_text=username)


def listeners(page: Page) -> Locator:
    return page.get_by_role("list", name=re.compile(r"^Listeners"))


def test_a_listener_asks_to_speak_is_approved_unmutes_is_muted_and_removed(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, guest_name = unique("host"), unique("guest")
    title = f"Town square {uuid.uuid4().hex[:6]}"
    host, guest = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(guest, base, guest_name)

    host.goto(f"{base}/spaces")
    host.get_by_role("button", name="Start a Space").click()
    dialog = host.get_by_role("dialog", name="Start a Space")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_role("button", name="Start now").click()
    expect(host.get_by_role("heading", level=1)).to_have_text(title)
    expect(stage_tile(host, host_name).get_by_text("Host", exact=True)).to_be_visible()
    expect(host.get_by_role("button", name="End", exact=True)).to_be_visible()

    guest.goto(f"{base}/spaces")
    card = guest.get_by_role("list", name="Live now").get_by_role("listitem").filter(has_text=title)
    expect(card).to_contain_text(host_name)
    card.get_by_role("link", name="Join").click()
    expect(guest.get_by_role("heading", level=1)).to_have_text(title)
    expect(listeners(guest).get_by_role("listitem").filter(has_text=guest_name)).to_be_visible()
    expect(listeners(host).get_by_role("listitem").filter(has_text=guest_name)).to_be_visible()
    expect(guest.get_by_role("status").filter(has_text="Room connection")).to_have_text(
        "Room connection: Live"
    )

    guest.get_by_role("button", name="Request to speak").click()
    expect(guest.get_by_role("button", name="Cancel request")).to_be_visible()
    requests = host.get_by_role("list", name=re.compile(r"^Requests to speak"))
    requests.get_by_role("listitem").filter(has_text=guest_name).get_by_role(
        "button", name="Approve"
    ).click()

    # On stage and muted, on both pages; then the guest unmutes and both see the mic on.
    for page in (guest, host):
        expect(stage_tile(page, guest_name).get_by_role("img", name="Muted")).to_be_visible()
        expect(stage_tile(page, guest_name)).to_contain_text("Speaker")
    guest.get_by_role("button", name="Unmute", exact=True).click()
    for page in (guest, host):
        expect(
            stage_tile(page, guest_name).get_by_role("img", name="Microphone on")
        ).to_be_visible()

    stage_tile(host, guest_name).get_by_role("button", name="Actions for").click()
    host.get_by_role("menuitem", name="Mute", exact=True).click()
    for page in (guest, host):
        expect(stage_tile(page, guest_name).get_by_role("img", name="Muted")).to_be_visible()
    expect(guest.get_by_role("button", name="Unmute", exact=True)).to_be_visible()

    stage_tile(host, guest_name).get_by_role("button", name="Actions for").click()
    host.get_by_role("menuitem", name="Remove", exact=True).click()
    expect(guest.get_by_role("heading", name="You were removed from this Space")).to_be_visible()
    expect(guest.get_by_role("button", name="Rejoin")).to_be_visible()
    expect(stage_tile(host, guest_name)).to_have_count(0)
    expect(listeners(host).get_by_role("listitem").filter(has_text=guest_name)).to_have_count(0)


def test_a_reaction_floats_up_on_the_hosts_page(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, guest_name = unique("host"), unique("fan")
    title = f"Reactions {uuid.uuid4().hex[:6]}"
    host, guest = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(guest, base, guest_name)
    space_id = start_space(host, base, title)
    expect(host.get_by_role("status").filter(has_text="Room connection")).to_have_text(
        "Room connection: Live"
    )
    enter_room(guest, base, space_id, title)
    expect(listeners(host).get_by_role("listitem").filter(has_text=guest_name)).to_be_visible()

    guest.get_by_role("button", name="React with fire").click()
    expect(host.locator(".reaction-layer").get_by_text("🔥")).to_be_attached()


def test_a_poll_shows_the_vote_live_on_both_pages(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, guest_name = unique("host"), unique("voter")
    title = f"Polls {uuid.uuid4().hex[:6]}"
    question = "Tea or coffee?"
    host, guest = open_page(), open_page()
    sign_up(host, base, host_name)
    sign_up(guest, base, guest_name)
    space_id = start_space(host, base, title)
    enter_room(guest, base, space_id, title)

    host.get_by_role("button", name="New poll").click()
    host.get_by_label("Question").fill(question)
    host.get_by_label("Option 1").fill("Tea")
    host.get_by_label("Option 2").fill("Coffee")
    host.get_by_role("button", name="Start poll").click()
    host_results = host.get_by_role("list", name=f"Results: {question}")
    expect(host_results.get_by_role("listitem").filter(has_text="Tea")).to_contain_text("0%")
    host_poll = host.get_by_role("listitem").filter(has=host_results)
    expect(host_poll).to_contain_text("0 votes")

    guest.get_by_role("button", name="Vote for Tea").click()
    for page in (guest, host):
        results = page.get_by_role("list", name=f"Results: {question}")
        expect(results.get_by_role("listitem").filter(has_text="Tea")).to_contain_text("100%")
        expect(results.get_by_role("listitem").filter(has_text="Coffee")).to_contain_text("0%")
        expect(page.get_by_role("listitem").filter(has=results)).to_contain_text("1 vote")
    expect(guest.get_by_role("button", name="Vote for Coffee")).to_have_count(0)


def test_a_logged_out_visitor_sees_the_preview_and_is_asked_to_log_in(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    host = sqlite_server.signup(unique("host"))
    title = f"Open to all {uuid.uuid4().hex[:6]}"
    with host.client() as client:
        response = client.post("/api/v1/spaces", json={"title": title})
    assert response.status_code == 201, response.text
    space_id = response.json()["id"]
    visitor = open_page()

    visitor.goto(f"{sqlite_server.url}/s/{space_id}")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    expect(visitor.get_by_text("Live", exact=True).first).to_be_visible()
    expect(stage_tile(visitor, host.username)).to_contain_text("Host")
    login = visitor.get_by_role("link", name="Log in to join")
    expect(login).to_have_attribute("href", f"/login?next=%2Fs%2F{space_id}")
    expect(visitor.get_by_role("button", name="Request to speak")).to_have_count(0)

    login.click()
    expect(visitor).to_have_url(f"{sqlite_server.url}/login?next=%2Fs%2F{space_id}")


def test_a_dropped_room_connection_reconnects_and_catches_up_on_what_it_missed(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    title = f"Flaky wifi {uuid.uuid4().hex[:6]}"
    host, guest = open_page(), open_page()
    sign_up(host, base, unique("host"))
    sign_up(guest, base, unique("guest"))
    space_id = start_space(host, base, title)

    # The guest's Space stream goes through a route the test can cut and hold down.
    urls: list[str] = []
    sockets: list[WebSocketRoute] = []
    cut = False

    def through(socket: WebSocketRoute) -> None:
        urls.append(socket.url)
        if cut:
            socket.close()
            return
        socket.connect_to_server()
        sockets.append(socket)

    guest.route_web_socket(re.compile(r"/api/v1/spaces/[^/]+/events"), through)
    enter_room(guest, base, space_id, title)
    status = guest.get_by_role("status").filter(has_text="Room connection")

    cut = True
    sockets[0].close()
    expect(status).to_have_text("Room connection: Reconnecting…")
    # Missed while away: a poll opens.
    csrf = next(c["value"] for c in host.context.cookies() if c["name"] == "townhall_csrf")
    opened = host.request.post(
        f"{base}/api/v1/spaces/{space_id}/polls",
        data={"question": "Still there?", "options": ["Yes", "No"], "duration_s": 600},
        headers={"X-CSRF-Token": csrf},
    )
    assert opened.status == 201, opened.text()
    cut = False

    expect(status).to_have_text("Room connection: Live")
    expect(guest.get_by_role("button", name="Vote for Yes")).to_be_visible()
    assert re.search(r"[?&]since=\d+", urls[-1]), urls


def test_a_host_who_walks_away_is_told_their_space_is_still_live(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    title = f"Walk away {uuid.uuid4().hex[:6]}"
    host = open_page()
    sign_up(host, base, unique("host"))
    start_space(host, base, title)
    expect(host.get_by_role("status").filter(has_text="Room connection")).to_have_text(
        "Room connection: Live"
    )

    host.get_by_role("link", name="Home").first.click()

    expect(host.get_by_text("Your Space is still live")).to_be_visible()
