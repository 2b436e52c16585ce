"""Two nodes sharing PostgreSQL and Redis: what one node caches, a change on the other undoes."""

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.harness import Account, LiveServer, serve_nodes
from tests.integration.api.test_two_nodes_redis import REDIS_URL


@pytest.fixture(scope="module")
def two_nodes(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared_dir = tmp_path_factory.mktemp("two-nodes-permits")
    with serve_nodes(shared_dir, postgres_url, REDIS_URL, (3, 4)) as (node_a, node_b):
        yield node_a, node_b


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


def _guest_known_to_node_a(
    node_a: LiveServer, joined_through: LiveServer
) -> tuple[Account, Account, str]:
    """A host's live Space and a guest in it, whom node A has let react (and so remembers)."""
    host = node_a.signup(f"h{uuid.uuid4().hex[:10]}")
    guest = node_a.signup(f"g{uuid.uuid4().hex[:10]}")
    with node_a.client(host.token) as client:
        space_id: str = client.post("/api/v1/spaces", json={"title": "two nodes"}).json()["id"]
    with joined_through.client(guest.token) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/join").status_code == 200
    assert _react_status(node_a, guest.token, space_id) == 202
    return host, guest, space_id


def test_leaving_on_one_node_ends_reactions_on_the_other(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    _host, guest, space_id = _guest_known_to_node_a(node_a, joined_through=node_b)
    with node_b.client(guest.token) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/leave").status_code == 204
    assert _eventually(node_a, guest.token, space_id, 403) == 403


def test_a_block_on_one_node_hides_the_space_on_the_other(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    host, guest, space_id = _guest_known_to_node_a(node_a, joined_through=node_a)
    with node_b.client(host.token) as client:
        assert client.post(f"/api/v1/users/{guest.username}/block").status_code == 204
    assert _eventually(node_a, guest.token, space_id, 404) == 404
