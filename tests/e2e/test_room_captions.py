"""Captions in real browsers: the host's fake microphone speaks (espeak-ng) in a Space with
captions on; the listener's captions panel shows the words under the host's name, can be
hidden, and once the Space ends its transcript's moments seek the replay."""

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import OpenPage
from tests.e2e.test_room_audio import csrf, wait_for_link
from tests.e2e.test_space_room import sign_up, unique
from tests.harness import LiveServer

pytestmark = pytest.mark.browser

# The words of conftest.SPEECH that tiny.en gets right through Opus, whatever it does
# with the rest.
HEARD_WORDS = re.compile(r"town hall|park|library|welcome", re.IGNORECASE)
CAPTION_TIMEOUT_MS = 40_000


def test_a_listener_reads_the_hosts_words_live_and_the_transcript_seeks_the_replay(
    sqlite_server: LiveServer, open_mic_page: OpenPage
) -> None:
    pool = sqlite_server.container.caption_pool
    assert pool is not None
    # Playwright's sync API holds this thread's event loop: warm the workers from another.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(lambda: asyncio.run(pool.warm_up())).result()
    base = sqlite_server.url
    host_name, listener_name = unique("host"), unique("ear")
    host, listener = open_mic_page(), open_mic_page()
    sign_up(host, base, host_name)
    sign_up(listener, base, listener_name)
    created = host.request.post(
        f"{base}/api/v1/spaces",
        data={"title": f"Captioned {uuid.uuid4().hex[:6]}", "captions": True},
        headers=csrf(host),
    )
    assert created.status == 201, created.text()
    space_id = created.json()["id"]
    host.goto(f"{base}/s/{space_id}")
    wait_for_link(host, "publish")
    host.get_by_role("button", name="Unmute", exact=True).click()

    listener.goto(f"{base}/s/{space_id}")
    panel = listener.get_by_role("region", name="Captions")
    expect(panel).to_be_visible()
    line = panel.locator(".caption-line:not(.caption-interim)").filter(has_text=HEARD_WORDS)
    expect(line.first).to_be_visible(timeout=CAPTION_TIMEOUT_MS)
    expect(line.first.locator(".caption-speaker")).to_have_text(host_name)
    size = line.first.locator(".caption-text").evaluate("el => getComputedStyle(el).fontSize")
    assert float(size.removesuffix("px")) >= 20

    # Hidden stays hidden, across a reload.
    panel.get_by_role("button", name="Hide captions").click()
    expect(panel.get_by_role("log")).to_be_hidden()
    listener.reload()
    panel = listener.get_by_role("region", name="Captions")
    expect(panel.get_by_role("button", name="Show captions")).to_be_visible()
    expect(panel.get_by_role("log")).to_be_hidden()

    ended = host.request.post(f"{base}/api/v1/spaces/{space_id}/end", headers=csrf(host))
    assert ended.status == 200, ended.text()
    listener.goto(f"{base}/s/{space_id}")
    transcript = listener.get_by_role("region", name="Transcript")
    expect(transcript).to_be_visible()
    expect(transcript).to_contain_text(HEARD_WORDS)
    expect(transcript).to_contain_text(host_name)
    # The replay player is another component's (issue #5): a stand-in with its class,
    # whose clock the test moves, is what the transcript talks to.
    listener.evaluate(
        """() => {
          window.__seeks = [];
          document.addEventListener("townhall:seek", (e) => window.__seeks.push(e.detail));
          const player = document.createElement("audio");
          player.className = "replay-player";
          let at = 0;
          Object.defineProperty(player, "currentTime", { get: () => at, set: (v) => { at = v; } });
          document.body.append(player);
          window.__player = player;
        }"""
    )
    moment = transcript.get_by_role("button", name=re.compile(r"^Play from \d+:\d\d$")).first
    moment.click()
    seeks = listener.evaluate("() => window.__seeks")
    assert len(seeks) == 1 and isinstance(seeks[0]["offset_ms"], int), seeks
    label = moment.get_attribute("aria-label") or ""
    minutes, seconds = label.removeprefix("Play from ").split(":")
    assert seeks[0]["offset_ms"] // 1000 == int(minutes) * 60 + int(seconds)
    assert listener.evaluate("() => window.__player.currentTime") == seeks[0]["offset_ms"] / 1000

    # As the replay plays, the line being said is highlighted and shown as a caption.
    listener.evaluate(
        """(atMs) => {
          window.__player.currentTime = atMs / 1000 + 0.5;
          window.__player.dispatchEvent(new Event("timeupdate"));
        }""",
        seeks[0]["offset_ms"],
    )
    expect(transcript.locator("li[aria-current=true]")).to_have_count(1)
    expect(transcript.locator(".captions-now")).to_contain_text(host_name)

    # Searching for a word said finds the moment; following the hit seeks the replay there.
    said = transcript.locator(".transcript-text").first.inner_text()
    word = max(re.findall(r"[A-Za-z]+", said), key=len)
    listener.goto(f"{base}/spaces?q={word}")
    listener.evaluate(
        """() => {
          window.__seeks = [];
          document.addEventListener("townhall:seek", (e) => window.__seeks.push(e.detail));
        }"""
    )
    hit = listener.get_by_role("list", name="Said in Spaces").get_by_role("link").first
    expect(hit).to_contain_text(host_name)
    hit.click()
    expect(listener).to_have_url(re.compile(rf"/s/{space_id}\?t=\d+$"))
    current = listener.get_by_role("region", name="Transcript").locator("li[aria-current=true]")
    expect(current).to_have_count(1)
    listener.wait_for_function("() => window.__seeks.length === 1")
    linked_s = int(listener.url.rsplit("t=", 1)[1])
    assert listener.evaluate("() => window.__seeks[0].offset_ms") == linked_s * 1000
