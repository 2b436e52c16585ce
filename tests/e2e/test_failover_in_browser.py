"""Two nodes behind nginx, a host speaking from a browser and a listener in another: when
the node that owns the Space's audio is killed, both browsers reconnect by themselves to
the node that takes over, the host still on stage, and the listener hears them again."""

import os
import time
from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.conftest import OpenPage
from tests.e2e.test_room_audio import HEARD, energy_gained, on_air
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
    air = on_air(open_mic_page, deployment.proxy.url, "Failover")

    deployment.media_owner(air.space_id).kill()
    killed = time.monotonic()
    air.both_reconnected()
    back_s = time.monotonic() - killed
    assert back_s < BACK_WITHIN_S
    print(f"browsers reconnected {back_s:.1f} s after the kill")
    assert energy_gained(air.listener, 2000) > HEARD
    air.host_still_on_stage_and_unmuted()
