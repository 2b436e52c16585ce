"""Two nodes sharing PostgreSQL and Redis: what one node caches, a change on the other undoes."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.api.test_two_nodes_redis import REDIS_URL


@pytest.fixture(scope="module")
def two_nodes(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared_dir: Path = tmp_path_factory.mktemp("two-nodes-permits")
    generators = []
    nodes = []
    for node_id in (3, 4):
        settings = make_settings(shared_dir, postgres_url).with_overrides(
            redis_url=REDIS_URL, node_id=node_id
        )
        generator = serve_in_thread(settings)
        generators.append(generator)
        nodes.append(next(generator))
    try:
        yield nodes[0], nodes[1]
    finally:
        for generator in generators:
            generator.close()


def _react_status(node: LiveServer, token: str, space_id: str) -> int:
    with node.client(token) as client:
        response = client.post(f"/api/v1/spaces/{space_id}/reactions", json={"emoji": "🔥"})
    return response.status_code


def _eventually(node: LiveServer, token: str, space_id: str, status: int) -> int:
    """The other node hears of the change over Redis within milliseconds; allow a second."""
    deadline = time.monotonic() + 2
    while True:
        got = _react_status(node, token, space_id)
        if got == status or time.monotonic() > deadline:
            return got
        time.sleep(0.25)  # also keeps under the 5/s rate limit


def test_leaving_on_one_node_ends_reactions_on_the_other(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    host = node_a.signup(f"h{uuid.uuid4().hex[:10]}")
    guest = node_a.signup(f"g{uuid.uuid4().hex[:10]}")
    with node_a.client(host.token) as client:
        space_id = client.post("/api/v1/spaces", json={"title": "two nodes"}).json()["id"]
    with node_b.client(guest.token) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/join").status_code == 200
    assert _react_status(node_a, guest.token, space_id) == 202  # node A now knows the guest
    with node_b.client(guest.token) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/leave").status_code == 204
    assert _eventually(node_a, guest.token, space_id, 403) == 403


def test_a_block_on_one_node_hides_the_space_on_the_other(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    host = node_a.signup(f"h{uuid.uuid4().hex[:10]}")
    guest = node_a.signup(f"g{uuid.uuid4().hex[:10]}")
    with node_a.client(host.token) as client:
        space_id = client.post("/api/v1/spaces", json={"title": "two nodes"}).json()["id"]
    with node_a.client(guest.token) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/join").status_code == 200
    assert _react_status(node_a, guest.token, space_id) == 202
    with node_b.client(host.token) as client:
        assert client.post(f"/api/v1/users/{guest.username}/block").status_code == 204
    assert _eventually(node_a, guest.token, space_id, 404) == 404
