"""The replay page in a real browser: a logged-out visitor plays an ended Space's recording,
at 2x, and sees the reactions float up, the pinned post and the poll appear, when the
playhead reaches them."""

import asyncio
import re
import threading
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import OpenPage
from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import call, open_space
from tests.media.peers import ToneTrack, connect

pytestmark = pytest.mark.browser

REACTION_AT_S = 3.0
RECORDED_S = 7.0


def record_a_space(server: LiveServer) -> tuple[str, int]:
    """A recorded Space with a speaker and one reaction; returns its id and the reaction's
    offset in the recording."""
    host = server.signup()
    space = open_space(host, recording=True, title="Replay me")
    space_id = space["id"]
    call(host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")

    async def talk() -> None:
        speaker = await connect(server.url, host.token, space_id, "publish", ToneTrack())
        await asyncio.sleep(REACTION_AT_S)
        call(host, "POST", f"/api/v1/spaces/{space_id}/reactions", json={"emoji": "🔥"})
        post = call(host, "POST", "/api/v1/posts", json={"text": "Agenda: parks, then bikes"})
        call(host, "POST", f"/api/v1/spaces/{space_id}/pins", json={"post_id": post.json()["id"]})
        call(
            host,
            "POST",
            f"/api/v1/spaces/{space_id}/polls",
            json={"question": "More parks?", "options": ["Yes", "No"], "duration_s": 60},
        )
        await asyncio.sleep(RECORDED_S - REACTION_AT_S)
        await speaker.close()

    # Playwright's sync API keeps an event loop in this thread: the peer gets its own.
    speaker = threading.Thread(target=lambda: asyncio.run(talk()))
    speaker.start()
    speaker.join()
    assert call(host, "POST", f"/api/v1/spaces/{space_id}/end").status_code == 200
    deadline = time.monotonic() + 20
    while httpx.get(f"{server.url}/api/v1/spaces/{space_id}/recording").json()["state"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    events: list[dict[str, Any]] = httpx.get(
        f"{server.url}/api/v1/spaces/{space_id}/replay-events"
    ).json()["data"]
    reaction = next(e for e in events if e["type"] == "reaction")
    return space_id, int(reaction["offset_ms"])


def test_a_logged_out_visitor_replays_a_space_with_its_reactions_in_time(
    sqlite_server: LiveServer, open_page: OpenPage
) -> None:
    space_id, reaction_ms = record_a_space(sqlite_server)
    page = open_page()
    page.goto(f"{sqlite_server.url}/s/{space_id}")
    replay = page.locator("section.replay")
    expect(replay).to_be_visible()
    expect(replay.locator(".replay-speaker")).to_have_count(1)
    assert replay.get_attribute("data-reactions-shown") == "0"
    # As things stood at 0:00: nothing pinned, no poll yet.
    expect(replay.locator(".replay-pinned .post")).to_have_count(0)
    expect(replay.get_by_text("More parks?")).to_have_count(0)

    replay.get_by_role("button", name="2×").click()
    replay.get_by_role("button", name="Play").click()
    # The reaction floats when the playhead passes its offset, not before.
    shown_at_ms = page.wait_for_function(
        """() => {
          const node = document.querySelector("section.replay");
          return node.dataset.reactionsShown === "1" ? Number(node.dataset.position) : null;
        }"""
    ).json_value()
    assert reaction_ms <= shown_at_ms < reaction_ms + 400, (reaction_ms, shown_at_ms)
    expect(replay.locator('.reaction-float[data-emoji="🔥"]')).to_have_count(1)
    expect(replay.locator(".replay-pinned .post")).to_have_text(re.compile("Agenda: parks"))
    expect(replay.get_by_text("More parks?")).to_be_visible()

    page.wait_for_function("() => document.querySelector('audio.replay-audio').currentTime > 5")
    played: dict[str, float] = page.evaluate(
        """() => {
          const audio = document.querySelector("audio.replay-audio");
          return {rate: audio.playbackRate, decoded: audio.webkitAudioDecodedByteCount ?? 0,
                  duration: audio.duration};
        }"""
    )
    assert played["rate"] == 2
    assert played["decoded"] > 0, "the browser decoded the audio"
    assert abs(played["duration"] - RECORDED_S) < 2.0

    # Seeking back does not replay a burst; playing through the reaction again shows it again.
    page.evaluate(
        """() => {
          const audio = document.querySelector("audio.replay-audio");
          audio.currentTime = 0.5;
          return audio.play();
        }"""
    )
    page.wait_for_function(
        "() => document.querySelector('section.replay').dataset.reactionsShown === '2'"
    )
