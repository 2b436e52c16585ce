"""A suspension served by one node shuts the user out of every node at once: their next
request anywhere is 401 and their sockets anywhere close with 4401, although each node
would otherwise trust a token it looked up for TOWNHALL_TOKEN_CACHE_S.

Real `townhall serve` processes sharing PostgreSQL and Redis. The token cache is set to
60 s, so only the message between nodes can explain a suspension felt within a second;
the same goes for a logout.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import POSTGRES_ADMIN_URL
from tests.nodes import Node, NodeAccount, fresh_postgres, node_processes

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN_CACHE_S = 60
TAKES_EFFECT_LIMIT_S = 2.0
"""Far under TOKEN_CACHE_S: without the message, node B would serve the user for 60 s."""


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        node_processes(
            tmp_path_factory.mktemp("nodes"),
            database_url,
            REDIS_URL,
            2,
            token_cache_s=str(TOKEN_CACHE_S),
        ) as nodes,
    ):
        yield nodes


def call(node: Node, account: NodeAccount, method: str, path: str, **kwargs: Any) -> Any:
    with node.client(account) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def make_admin(node: Node, account: NodeAccount) -> None:
    granted = subprocess.run(
        [sys.executable, "-m", "townhall", "admin", "grant", account.username],
        env=node.env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stderr.decode()


def me_status(node: Node, account: NodeAccount) -> tuple[int, str | None]:
    with node.client(account) as client:
        response = client.get("/api/v1/me")
    code = response.json()["error"]["code"] if response.status_code >= 400 else None
    return response.status_code, code


def ready(ws: ClientConnection) -> bool:
    return bool(json.loads(ws.recv(timeout=5))["type"] == "ready")


def closed_within(ws: ClientConnection, deadline: float) -> int | None:
    """The close code the server sent, reading past any events until then; None if open."""
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.recv(timeout=left)
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    return None


def seconds_until_refused(node: Node, account: NodeAccount, since: float) -> float | None:
    deadline = time.monotonic() + TAKES_EFFECT_LIMIT_S
    while time.monotonic() < deadline:
        if me_status(node, account) == (401, "invalid_token"):
            return time.monotonic() - since
        time.sleep(0.02)
    return None


def said(seconds: float | None) -> str:
    return "never (in 2 s)" if seconds is None else f"{seconds:.2f} s"


def test_a_user_suspended_through_one_node_is_shut_out_of_the_others_at_once(
    two_nodes: list[Node],
) -> None:
    node_a, node_b = two_nodes
    admin, host, bob = node_a.signup(), node_a.signup(), node_a.signup()
    make_admin(node_a, admin)
    space_id = call(node_a, host, "POST", "/api/v1/spaces", json={"title": "Two nodes"})["id"]
    call(node_b, bob, "POST", f"/api/v1/spaces/{space_id}/join")
    assert me_status(node_b, bob) == (200, None)  # node B now trusts Bob's token for 60 s
    with (
        connect(f"{node_b.ws_url}/api/v1/events?token={bob.token}") as personal,
        connect(f"{node_b.ws_url}/api/v1/spaces/{space_id}/events?token={bob.token}") as in_space,
    ):
        assert ready(personal) and ready(in_space)

        suspended_at = time.monotonic()  # counted from the request: its commit is inside
        call(node_a, admin, "POST", f"/api/v1/admin/users/{bob.id}/suspend")

        deadline = suspended_at + TAKES_EFFECT_LIMIT_S
        codes = closed_within(personal, deadline), closed_within(in_space, deadline)
        sockets_closed_s = time.monotonic() - suspended_at
        refused_after_s = seconds_until_refused(node_b, bob, suspended_at)
    print(
        f"\nsuspended through node A: node B refused the token after {said(refused_after_s)}, "
        f"sockets on B closed {codes} within {sockets_closed_s:.2f} s"
    )
    assert codes == (4401, 4401)
    assert refused_after_s is not None and refused_after_s < TAKES_EFFECT_LIMIT_S


def test_a_logout_through_one_node_ends_the_token_on_the_others_at_once(
    two_nodes: list[Node],
) -> None:
    node_a, node_b = two_nodes
    alice = node_a.signup()
    assert me_status(node_b, alice) == (200, None)  # cached on node B

    logged_out_at = time.monotonic()
    call(node_a, alice, "POST", "/api/v1/auth/logout")

    refused_after_s = seconds_until_refused(node_b, alice, logged_out_at)
    print(f"\nlogged out through node A: node B refused the token after {said(refused_after_s)}")
    assert refused_after_s is not None, "node B still served the token after 2 s"
