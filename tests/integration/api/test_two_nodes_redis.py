"""Two server processes' worth of app sharing PostgreSQL and Redis: events cross nodes."""

import json
import os
import uuid
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from tests.harness import LiveServer, serve_nodes

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def two_nodes(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared_dir = tmp_path_factory.mktemp("two-nodes")
    with serve_nodes(shared_dir, postgres_url, REDIS_URL, (1, 2)) as (node_a, node_b):
        yield node_a, node_b


def test_a_notification_made_on_one_node_reaches_a_socket_on_the_other(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    alice = node_b.signup(f"a{uuid.uuid4().hex[:10]}")
    bob = node_a.signup(f"b{uuid.uuid4().hex[:10]}")
    url_b = node_b.url.replace("http://", "ws://") + f"/api/v1/events?token={alice.token}"
    with connect(url_b) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        with node_a.client(bob.token) as client:
            assert client.post(f"/api/v1/users/{alice.username}/follow").status_code == 204
        frame = json.loads(ws.recv(timeout=5))
        assert frame["type"] == "notification"
        assert frame["data"]["actor_id"] == bob.id
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)  # exactly once, no echo duplicates
