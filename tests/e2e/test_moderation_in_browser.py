"""The moderation queue in a real browser: a post reported by one person is removed by an
admin from the Moderation page."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import OpenPage
from tests.e2e.test_web_shell import sign_up
from tests.harness import LiveServer
from townhall.services.moderation import do_set_admin

pytestmark = pytest.mark.browser


def test_a_reported_post_is_removed_by_an_admin_from_the_moderation_queue(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    author = sqlite_server.signup()
    text = f"Buy followers cheap {uuid.uuid4().hex[:6]}"
    with author.client() as client:
        post_id = client.post("/api/v1/posts", json={"text": text}).json()["id"]

    reporter = open_page()
    sign_up(reporter, base, f"rep{uuid.uuid4().hex[:10]}")
    reporter.goto(f"{base}/u/{author.username}")
    reporter.get_by_role("button", name=f"Report this post by @{author.username}").click()
    dialog = reporter.get_by_role("dialog", name="Report this post")
    expect(dialog).to_contain_text(text)
    dialog.get_by_label("Why?").select_option("spam")
    dialog.get_by_label(re.compile("Anything the admins should know")).fill("a bot")
    dialog.get_by_role("button", name="Report").click()
    expect(reporter.get_by_text("Thanks. The admins will look at your report.")).to_be_visible()

    admin = open_page()
    admin_name = f"adm{uuid.uuid4().hex[:10]}"
    sign_up(admin, base, admin_name)
    expect(admin.get_by_role("link", name="Moderation")).to_be_hidden()
    do_set_admin(sqlite_server.container.services, admin_name, True)
    admin.reload()
    admin.get_by_role("link", name="Moderation").click()
    queue = admin.get_by_role("list", name="Open reports")
    report = queue.get_by_role("listitem").filter(has_text=text)
    expect(report).to_contain_text("Spam")
    expect(report).to_contain_text("Note: a bot")
    report.get_by_role("button", name="Remove post").click()
    expect(admin.get_by_text("Post removed.")).to_be_visible()
    expect(queue.get_by_role("listitem").filter(has_text=text)).to_have_count(0)
    log = admin.get_by_role("list", name="Audit log")
    expect(log.get_by_role("listitem").filter(has_text="post.removed").first).to_contain_text(
        f"@{admin_name}"
    )
    assert httpx.get(f"{base}/api/v1/posts/{post_id}").status_code == 404


def test_in_a_recorded_space_a_listener_is_told_before_asking_to_speak_and_may_decline(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    host = sqlite_server.signup()
    title = f"Recorded talk {uuid.uuid4().hex[:6]}"
    with host.client() as client:
        created = client.post("/api/v1/spaces", json={"title": title, "recording": True})
    assert created.status_code == 201, created.text
    space_id = created.json()["id"]

    guest = open_page()
    sign_up(guest, base, f"lis{uuid.uuid4().hex[:10]}")
    guest.goto(f"{base}/s/{space_id}")
    expect(guest.get_by_role("heading", level=1)).to_have_text(title)

    guest.get_by_role("button", name="Request to speak").click()
    consent = guest.get_by_role("dialog", name="This Space is recorded")
    expect(consent).to_contain_text("in the recording")
    consent.get_by_role("button", name="Decline").click()
    expect(guest.get_by_text("You stay a listener.")).to_be_visible()
    expect(guest.get_by_role("button", name="Request to speak")).to_be_visible()
    with host.client() as client:
        people = client.get(f"/api/v1/spaces/{space_id}/participants").json()["data"]
    assert not any(p["hand_raised"] for p in people)

    guest.get_by_role("button", name="Request to speak").click()
    guest.get_by_role("dialog", name="This Space is recorded").get_by_role(
        "button", name="Accept"
    ).click()
    expect(guest.get_by_role("button", name="Cancel request")).to_be_visible()


def test_a_host_bans_someone_from_their_profile_and_lifts_it_in_settings(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    troll = sqlite_server.signup()
    host = open_page()
    host_name = f"hst{uuid.uuid4().hex[:10]}"
    sign_up(host, base, host_name)
    host.goto(f"{base}/u/{troll.username}")
    host.get_by_role("button", name=f"More actions for @{troll.username}").click()
    host.get_by_role("menuitem", name="Keep out of my Spaces").click()
    expect(host.get_by_text(f"@{troll.username} can't join your Spaces.")).to_be_visible()

    host.get_by_role("link", name="Settings").click()
    bans = host.get_by_role("list", name="Kept out of your Spaces")
    banned = bans.get_by_role("listitem").filter(has_text=f"@{troll.username}")
    expect(banned).to_be_visible()
    with httpx.Client(base_url=base) as client:
        response = client.get("/api/v1/me/bans", headers={"Authorization": f"Bearer {troll.token}"})
    assert response.json()["data"] == []  # the troll's own list: bans are the host's

    banned.get_by_role("button", name="Lift").click()
    expect(bans.get_by_role("listitem")).to_have_count(0)
    expect(host.get_by_text("Nobody. Everyone may join your Spaces.")).to_be_visible()
