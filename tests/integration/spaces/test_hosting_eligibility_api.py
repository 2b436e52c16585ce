"""TOWNHALL_MIN_FOLLOWERS_TO_HOST: below it, opening a Space says how many followers it takes."""

from collections.abc import Iterator

import pytest

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import call


@pytest.fixture(scope="module")
def picky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("picky")).with_overrides(
        min_followers_to_host=2
    )
    yield from serve_in_thread(settings)


def test_hosting_needs_the_configured_number_of_followers(picky_server: LiveServer) -> None:
    host = picky_server.signup()
    refused = call(host, "POST", "/api/v1/spaces", json={"title": "Too early"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_enough_followers"
    assert "at least 2 followers" in refused.json()["error"]["message"]
    for _ in range(2):
        fan = picky_server.signup()
        call(fan, "POST", f"/api/v1/users/{host.username}/follow")
    assert call(host, "POST", "/api/v1/spaces", json={"title": "Now"}).status_code == 201
