"""Recording in the web client, end to end: a participant clips a live recorded Space and
the clip plays inline in the timeline; the host's profile lists the recording, and the
host deletes it from its replay."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import OpenPage
from tests.e2e.test_space_room import sign_up, unique
from tests.harness import LiveServer

pytestmark = pytest.mark.browser


def csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "townhall_csrf")
    return {"X-CSRF-Token": token}


def recording_state(page: Page, base: str, space_id: str) -> str:
    response = page.request.get(f"{base}/api/v1/spaces/{space_id}/recording")
    state: str = response.json()["state"] if response.ok else str(response.status)
    return state


def test_a_host_clips_a_recorded_space_finds_it_on_their_profile_and_deletes_it(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    base = sqlite_server.url
    name = unique("rec")
    page = open_page()
    sign_up(page, base, name)
    created = page.request.post(
        f"{base}/api/v1/spaces",
        data={"title": "Recorded talk", "recording": True},
        headers=csrf(page),
    )
    assert created.status == 201
    space_id = created.json()["id"]
    page.goto(f"{base}/s/{space_id}")
    clip_button = page.get_by_role("button", name="Clip the last 30 s")
    expect(clip_button).to_be_visible()
    page.wait_for_timeout(6000)  # more than the 5 s a clip needs
    clip_button.click()
    expect(page.get_by_role("status").filter(has_text="Clip posted")).to_be_visible()

    page.goto(f"{base}/")
    player = page.locator(".post-clip audio").first
    expect(player).to_have_attribute("src", re.compile(r"^/clips/\d+\.m4a$"))
    src = player.get_attribute("src")
    assert page.request.get(f"{base}{src}").status == 200

    ended = page.request.post(f"{base}/api/v1/spaces/{space_id}/end", headers=csrf(page))
    assert ended.status == 200
    deadline = time.monotonic() + 20
    while recording_state(page, base, space_id) != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    page.goto(f"{base}/u/{name}")
    recorded = page.get_by_role("region", name="Recorded Spaces")
    recorded.get_by_role("link", name="Recorded talk").click()
    replay = page.locator("section.replay")
    expect(replay).to_be_visible()
    replay.get_by_role("button", name="Delete recording").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(replay).to_have_count(0)
    assert recording_state(page, base, space_id) == "404"
