"""A person whose connection moves from one node to another (a reload behind a load
balancer) is still in the Space when the first node's grace period runs out."""

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.harness import LiveServer, serve_nodes
from tests.integration.spaces.space_helpers import (
    join,
    next_frame,
    open_space,
    participants,
    space_events,
)
from tests.nodes import fresh_postgres

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
GRACE_S = 1.0


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[LiveServer]]:
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        serve_nodes(
            tmp_path, database_url, REDIS_URL, (21, 22), participant_grace_s=GRACE_S
        ) as nodes,
    ):
        yield nodes


def test_reconnecting_through_another_node_keeps_you_in_the_space(
    two_nodes: list[LiveServer],
) -> None:
    node_a, node_b = two_nodes
    host, listener = node_a.signup(), node_a.signup()
    space = open_space(host)
    join(listener, space["id"])
    with space_events(node_a, listener, space["id"]) as ws:
        assert next_frame(ws)["type"] == "ready"
    # Dropped from A (its grace timer starts there) and back at once through B.
    with space_events(node_b, listener, space["id"]) as ws:
        assert next_frame(ws)["type"] == "ready"
        time.sleep(GRACE_S + 1.5)
        assert listener.id in participants(host, space["id"])


def test_someone_who_does_not_come_back_anywhere_leaves_after_the_grace(
    two_nodes: list[LiveServer],
) -> None:
    node_a, _ = two_nodes
    host, listener = node_a.signup(), node_a.signup()
    space = open_space(host)
    join(listener, space["id"])
    with space_events(node_a, listener, space["id"]) as ws:
        assert next_frame(ws)["type"] == "ready"
    deadline = time.monotonic() + GRACE_S + 5
    while listener.id in participants(host, space["id"]):
        assert time.monotonic() < deadline, "still listed after the grace"
        time.sleep(0.2)
