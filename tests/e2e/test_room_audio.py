"""Live audio in real browsers: a host's fake microphone speaks (espeak-ng), listeners hear it.

What a listener heard is read from their WebRTC connection's getStats(): inbound-rtp
`totalAudioEnergy` sums the square of every decoded sample (times its duration), so it
rises while someone talks and stands still in silence. The room exposes the connection
that plays as `window.__townhallAudio.pc`.
"""

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import TIMEOUT_MS, OpenPage
from tests.e2e.test_space_room import sign_up, stage_tile, start_space, unique
from tests.harness import LiveServer, make_settings, serve_in_thread

pytestmark = pytest.mark.browser

ENERGY_JS = """async () => {
  const pc = window.__townhallAudio?.pc;
  if (!pc) return null;
  for (const stat of (await pc.getStats()).values()) {
    if (stat.type === "inbound-rtp" && stat.kind === "audio") return stat.totalAudioEnergy ?? 0;
  }
  return null;
}"""
CONNECTED_JS = """([kind, notSession]) => {
  const audio = window.__townhallAudio;
  return audio?.kind === kind && audio.state === "connected" && audio.sessionId !== notSession;
}"""
# Speech at about -25 dBFS adds about 0.1 a second; a muted mix adds about 1e-9.
HEARD = 0.01
SILENT = 1e-4


def audio_status(page: Page) -> Locator:
    return page.get_by_role("status").filter(has_text="Audio:")


def energy(page: Page) -> float:
    value = page.evaluate(ENERGY_JS)
    assert value is not None, "no audio connection with an inbound audio stream"
    return float(value)


def energy_gained(page: Page, over_ms: int) -> float:
    before = energy(page)
    page.wait_for_timeout(over_ms)
    return energy(page) - before


def wait_for_link(page: Page, kind: str, not_session: str | None = None) -> str:
    """Waits until the room's audio link of this kind is connected; returns its session."""
    page.wait_for_function(CONNECTED_JS, arg=[kind, not_session])
    session: str = page.evaluate("() => window.__townhallAudio.sessionId")
    return session


@dataclass
class OnAir:
    """A host speaking in one browser, heard by a listener in another."""

    host: Page
    listener: Page
    space_id: str
    listening: str
    speaking: str
    """The audio sessions (listen, publish) the two pages started with."""

    def both_reconnected(self) -> None:
        """Waits until both pages run new audio sessions, by themselves."""
        wait_for_link(self.listener, "listen", not_session=self.listening)
        wait_for_link(self.host, "publish", not_session=self.speaking)

    def host_still_on_stage_and_unmuted(self) -> None:
        expect(audio_status(self.host)).to_have_text("Audio: On stage")
        expect(self.host.get_by_role("button", name="Mute", exact=True)).to_be_visible()


def on_air(open_mic_page: OpenPage, base: str, title: str) -> OnAir:
    """Signs up a host and a listener, starts a Space, unmutes the host, and checks the
    listener hears them."""
    host, listener = open_mic_page(), open_mic_page()
    sign_up(host, base, unique("host"))
    sign_up(listener, base, unique("ear"))
    space_id = start_space(host, base, f"{title} {uuid.uuid4().hex[:6]}")
    expect(audio_status(host)).to_have_text("Audio: On stage")
    host.get_by_role("button", name="Unmute", exact=True).click()
    expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    listener.goto(f"{base}/s/{space_id}")
    listening = wait_for_link(listener, "listen")
    speaking = wait_for_link(host, "publish")
    assert energy_gained(listener, 1500) > HEARD
    return OnAir(host, listener, space_id, listening, speaking)


def wait_for_sessions(server: LiveServer, space_id: str, count: int) -> None:
    """Waits until the server holds this many WebRTC sessions for the Space."""
    media = server.container.media
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while media.session_count(int(space_id)) != count:
        assert time.monotonic() < deadline, f"{media.session_count(int(space_id))} sessions"
        time.sleep(0.05)


def csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "townhall_csrf")
    return {"X-CSRF-Token": token}


def test_a_listener_hears_the_host_until_the_host_mutes(
    sqlite_server: LiveServer, open_mic_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name, listener_name = unique("host"), unique("ear")
    title = f"Sound check {uuid.uuid4().hex[:6]}"
    host, listener = open_mic_page(), open_mic_page()
    sign_up(host, base, host_name)
    sign_up(listener, base, listener_name)

    # The host is on stage from the start: the mic is asked for and published.
    space_id = start_space(host, base, title)
    expect(audio_status(host)).to_have_text("Audio: On stage")
    host.get_by_role("button", name="Unmute", exact=True).click()
    expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    expect(host.get_by_role("meter", name="Your microphone level")).to_be_visible()
    host.wait_for_function(
        "() => Number(document.querySelector('[role=meter]').getAttribute('aria-valuenow')) > 10"
    )

    listener.goto(f"{base}/s/{space_id}")
    expect(audio_status(listener)).to_have_text("Audio: Listening")
    wait_for_link(listener, "listen")
    expect(listener.get_by_text(re.compile(r"^(Good|Fair|Poor) connection$"))).to_be_visible()
    # The listener hears the host; the host, alone on stage, hears nobody (not themselves).
    heard_before, echo_before = energy(listener), energy(host)
    listener.wait_for_timeout(2000)
    assert energy(listener) - heard_before > HEARD
    assert energy(host) - echo_before < SILENT

    host_tile = stage_tile(listener, host_name)
    expect(host_tile).to_have_attribute("data-speaking", "true")

    host.get_by_role("button", name="Mute", exact=True).click()
    expect(host_tile.get_by_role("img", name="Muted")).to_be_visible()
    listener.wait_for_timeout(1000)
    assert energy_gained(listener, 1500) < SILENT
    expect(host_tile).not_to_have_attribute("data-speaking", "true")

    # Ending the Space hangs everyone up.
    ended = host.request.post(f"{base}/api/v1/spaces/{space_id}/end", headers=csrf(host))
    assert ended.status == 200, ended.text()
    for page in (host, listener):
        expect(page.get_by_role("region", name="Audio")).to_be_hidden()
        page.wait_for_function("() => window.__townhallAudio.state === 'off'")
    wait_for_sessions(sqlite_server, space_id, 0)


def test_a_listener_is_promoted_to_speak_and_moved_back_without_rejoining(
    sqlite_server: LiveServer, open_mic_page: OpenPage
) -> None:
    base = sqlite_server.url
    host = sqlite_server.signup(unique("host"))
    guest = open_mic_page()
    sign_up(guest, base, unique("guest"))
    guest_id = guest.request.get(f"{base}/api/v1/me").json()["id"]
    with host.client() as client:
        response = client.post("/api/v1/spaces", json={"title": "Promotions"})
        assert response.status_code == 201, response.text
        space_id = response.json()["id"]
        role = f"/api/v1/spaces/{space_id}/participants/{guest_id}/role"

        guest.goto(f"{base}/s/{space_id}")
        listening = wait_for_link(guest, "listen")
        meter = guest.get_by_role("meter", name="Your microphone level")
        expect(meter).to_be_hidden()

        # The server drops the connection: the room makes a new one by itself.
        dropped = guest.request.delete(
            f"{base}/api/v1/spaces/{space_id}/rtc/sessions/{listening}", headers=csrf(guest)
        )
        assert dropped.status == 204, dropped.text()
        wait_for_link(guest, "listen", not_session=listening)

        # On stage: the mic and a publish connection, whose mix replaces the listen one.
        assert client.post(role, json={"role": "speaker"}).status_code == 200
        wait_for_link(guest, "publish")
        expect(audio_status(guest)).to_have_text("Audio: On stage")
        expect(meter).to_be_visible()
        wait_for_sessions(sqlite_server, space_id, 1)

        # Back in the audience: the mic is released and a listen connection plays.
        assert client.post(role, json={"role": "listener"}).status_code == 200
        wait_for_link(guest, "listen")
        expect(audio_status(guest)).to_have_text("Audio: Listening")
        expect(meter).to_be_hidden()
        wait_for_sessions(sqlite_server, space_id, 1)
        assert client.post(f"/api/v1/spaces/{space_id}/end").status_code == 200


def test_when_autoplay_is_refused_a_tap_starts_the_sound(
    sqlite_server: LiveServer, open_mic_page: OpenPage
) -> None:
    base = sqlite_server.url
    host = sqlite_server.signup(unique("host"))
    with host.client() as client:
        response = client.post("/api/v1/spaces", json={"title": "Autoplay"})
    assert response.status_code == 201, response.text
    space_id = response.json()["id"]
    listener = open_mic_page()
    # As Safari and Firefox do: no sound before the person interacts with the page.
    listener.add_init_script(
        """(() => {
          const play = HTMLMediaElement.prototype.play;
          let allowed = false;
          addEventListener("pointerdown", () => { allowed = true; }, true);
          HTMLMediaElement.prototype.play = function () {
            if (allowed) return play.call(this);
            return Promise.reject(new DOMException("Not yet", "NotAllowedError"));
          };
        })()"""
    )
    sign_up(listener, base, unique("ear"))
    listener.goto(f"{base}/s/{space_id}")

    tap = listener.get_by_role("button", name="Tap to listen")
    expect(tap).to_be_visible()
    expect(audio_status(listener)).to_have_text("Audio: Ready to listen")
    tap.click()
    expect(tap).to_be_hidden()
    expect(audio_status(listener)).to_have_text("Audio: Listening")
    assert listener.evaluate("() => !document.querySelector('audio.room-player').paused")
    with host.client() as client:
        assert client.post(f"/api/v1/spaces/{space_id}/end").status_code == 200


def test_a_logged_out_visitor_listens_over_hls_once_the_room_is_live(
    sqlite_server: LiveServer, open_mic_page: OpenPage
) -> None:
    base = sqlite_server.url
    host_name = unique("host")
    title = f"Open mic {uuid.uuid4().hex[:6]}"
    host, visitor = open_mic_page(), open_mic_page()
    sign_up(host, base, host_name)
    visitor_status = visitor.get_by_role("status").filter(has_text="audio")

    response = host.request.post(f"{base}/api/v1/spaces", data={"title": title}, headers=csrf(host))
    assert response.status == 201, response.text()
    space_id = response.json()["id"]

    # Nobody has opened the room's audio yet: no playlist, so the page says so and waits.
    visitor.goto(f"{base}/s/{space_id}")
    visitor.get_by_role("button", name="Listen", exact=True).click()
    expect(visitor_status).to_have_text("Not live audio yet. Trying again…")

    host.goto(f"{base}/s/{space_id}")
    expect(audio_status(host)).to_have_text("Audio: On stage")
    expect(visitor_status).to_have_text("Playing live audio.", timeout=20_000)
    expect(visitor.get_by_role("button", name="Stop listening")).to_be_visible()
    visitor.wait_for_function("() => document.querySelector('audio.hls-audio').currentTime > 1")

    # The finished playlist plays out, then the player says it is over.
    ended = host.request.post(f"{base}/api/v1/spaces/{space_id}/end", headers=csrf(host))
    assert ended.status == 200, ended.text()
    expect(visitor_status).to_have_text("The live audio has ended.")
    expect(visitor.get_by_role("button", name="Listen", exact=True)).to_be_visible()


@pytest.fixture(scope="module")
def full_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No WebRTC seat for any listener: every one of them is sent to the HLS stream."""
    settings = make_settings(tmp_path_factory.mktemp("webrtc-full")).with_overrides(
        webrtc_listener_cap=0
    )
    yield from serve_in_thread(settings)


def test_a_listener_past_the_webrtc_cap_hears_the_room_over_hls(
    full_server: LiveServer, open_mic_page: OpenPage
) -> None:
    base = full_server.url
    host_name = unique("host")
    host, listener = open_mic_page(), open_mic_page()
    sign_up(host, base, host_name)
    sign_up(listener, base, unique("late"))

    space_id = start_space(host, base, f"Packed house {uuid.uuid4().hex[:6]}")
    expect(audio_status(host)).to_have_text("Audio: On stage")
    host.get_by_role("button", name="Unmute", exact=True).click()
    expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()

    listener.goto(f"{base}/s/{space_id}")
    # The room's player falls back to the Space's HLS stream and decodes it.
    expect(audio_status(listener)).to_have_text("Audio: Listening", timeout=20_000)
    listener.wait_for_function(
        "() => { const a = document.querySelector('audio.room-player');"
        " return a && !a.paused && a.currentTime > 1 && a.webkitAudioDecodedByteCount > 0; }",
        timeout=30_000,
    )
    assert listener.evaluate("() => document.querySelector('audio.room-player').srcObject") is None
    # Only the host's publish connection holds a WebRTC session: the listener has none.
    wait_for_sessions(full_server, space_id, 1)
    expect(stage_tile(listener, host_name)).to_be_visible()

    ended = host.request.post(f"{base}/api/v1/spaces/{space_id}/end", headers=csrf(host))
    assert ended.status == 200, ended.text()
    expect(listener.get_by_role("region", name="Audio")).to_be_hidden()
