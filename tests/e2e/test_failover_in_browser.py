"""Two nodes behind nginx, a host speaking from a browser and a listener in another: when
the node that owns the Space's audio is killed, both browsers reconnect by themselves to
the node that takes over, the host still on stage, and the listener hears them again."""

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.conftest import OpenPage
from tests.e2e.test_room_audio import HEARD, audio_status, energy_gained, wait_for_link
from tests.e2e.test_space_room import sign_up, start_space, unique
from tests.nginx import Deployment, nodes_behind_nginx

pytestmark = pytest.mark.browser

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACK_WITHIN_S = 15.0
"""The lease lapses within 6 s; the browsers' reconnection and ICE take the rest."""


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("failover-browser")
    with nodes_behind_nginx(work, POSTGRES_ADMIN_URL, REDIS_URL) as deployment:
        yield deployment


def test_browsers_follow_the_space_to_the_node_that_takes_it_over(
    deployment: Deployment, open_mic_page: OpenPage
) -> None:
    base = deployment.proxy.url
    host, listener = open_mic_page(), open_mic_page()
    sign_up(host, base, unique("host"))
    sign_up(listener, base, unique("ear"))
    space_id = start_space(host, base, f"Failover {uuid.uuid4().hex[:6]}")
    expect(audio_status(host)).to_have_text("Audio: On stage")
    host.get_by_role("button", name="Unmute", exact=True).click()
    expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()

    listener.goto(f"{base}/s/{space_id}")
    listening = wait_for_link(listener, "listen")
    speaking = wait_for_link(host, "publish")
    assert energy_gained(listener, 1500) > HEARD

    deployment.media_owner(space_id).kill()
    killed = time.monotonic()
    listener.wait_for_function(
        """(old) => { const a = window.__townhallAudio;
                      return a?.state === "connected" && a.sessionId !== old; }""",
        arg=listening,
        timeout=BACK_WITHIN_S * 1000,
    )
    host.wait_for_function(
        """(old) => { const a = window.__townhallAudio;
                      return a?.kind === "publish" && a.state === "connected"
                             && a.sessionId !== old; }""",
        arg=speaking,
        timeout=BACK_WITHIN_S * 1000,
    )
    back_s = time.monotonic() - killed
    assert back_s < BACK_WITHIN_S
    print(f"browsers reconnected {back_s:.1f} s after the kill")
    assert energy_gained(listener, 2000) > HEARD
    expect(audio_status(host)).to_have_text("Audio: On stage")
    expect(host.get_by_role("button", name="Mute", exact=True)).to_be_visible()
