"""With several nodes, each named rate limit is one allowance for the whole deployment:
a client that spreads its requests over the nodes gets no more than from one node.

Counted in the machine's Redis; each test uses users and addresses of its own, so runs
and tests do not share allowances.
"""

import asyncio
import os
import random
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from tests.conftest import POSTGRES_ADMIN_URL
from tests.harness import TEST_PASSWORD, Account, LiveServer, serve_nodes
from tests.media.peers import ToneTrack, connect
from tests.nodes import fresh_postgres
from townhall.config import RateLimit, RateLimits
from townhall.domain.errors import RateLimited
from townhall.realtime.redis_rate_limits import SharedRateLimits

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
PER_USER = 3
PER_IP = 5
TINY = RateLimit(per_user=PER_USER, per_ip=PER_IP, window_s=60.0)
LIMITS = RateLimits(
    post=TINY,
    follow=TINY,
    reaction=RateLimit(per_user=2, per_ip=0, window_s=1.0),
    webrtc_offer=RateLimit(per_user=PER_USER, per_ip=0, window_s=60.0),
)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def an_address() -> str:
    """Random in 198.18.0.0/15 (benchmarking addresses), so no run reuses another's."""
    return f"198.{18 + random.randrange(2)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311


def a_user() -> str:
    return f"user:{uuid.uuid4().hex}"


async def outcomes(limits: SharedRateLimits, name: str, user: str | None, ip: str) -> str:
    try:
        await limits.count(name, user, ip)
    except RateLimited as refused:
        return f"429 after {refused.retry_after_s}"
    return "ok"


def test_two_nodes_count_one_users_hits_together() -> None:
    async def scenario() -> list[str]:
        node_a = SharedRateLimits(LIMITS, REDIS_URL)
        node_b = SharedRateLimits(LIMITS, REDIS_URL)
        user = a_user()
        try:
            return [
                await outcomes(node, "post", user, an_address())
                for node in (node_a, node_b, node_a, node_b)
            ]
        finally:
            await node_a.close()
            await node_b.close()

    first, second, third, fourth = run(scenario())
    assert [first, second, third] == ["ok"] * PER_USER
    assert fourth.startswith("429 after ")
    assert 1 <= int(fourth.removeprefix("429 after ")) <= 60


def test_one_address_is_limited_across_users_and_nodes() -> None:
    async def scenario() -> list[str]:
        nodes = [SharedRateLimits(LIMITS, REDIS_URL) for _ in range(2)]
        address = an_address()
        try:
            return [
                await outcomes(nodes[i % 2], "follow", a_user(), address) for i in range(PER_IP + 1)
            ]
        finally:
            for node in nodes:
                await node.close()

    results = run(scenario())
    assert results[:PER_IP] == ["ok"] * PER_IP
    assert results[PER_IP].startswith("429")


def test_a_refused_hit_is_not_counted_for_the_user() -> None:
    """Refused for its address, the request leaves the user's allowance as it was."""

    async def scenario() -> list[str]:
        limits = SharedRateLimits(LIMITS, REDIS_URL)
        busy_address, user = an_address(), a_user()
        try:
            for _ in range(PER_IP):
                await limits.count("post", a_user(), busy_address)
            refused = await outcomes(limits, "post", user, busy_address)
            allowed = [await outcomes(limits, "post", user, an_address()) for _ in range(PER_USER)]
            return [refused, *allowed]
        finally:
            await limits.close()

    refused, *allowed = run(scenario())
    assert refused.startswith("429")
    assert allowed == ["ok"] * PER_USER


def test_a_short_window_frees_its_allowance_again() -> None:
    async def scenario() -> list[str]:
        limits = SharedRateLimits(LIMITS, REDIS_URL)
        user, address = a_user(), an_address()
        try:
            burst = [await outcomes(limits, "reaction", user, address) for _ in range(3)]
            await asyncio.sleep(1.1)
            return [*burst, await outcomes(limits, "reaction", user, address)]
        finally:
            await limits.close()

    assert run(scenario()) == ["ok", "ok", "429 after 1", "ok"]


def test_without_redis_each_node_still_limits_on_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[str]:
        limits = SharedRateLimits(LIMITS, UNREACHABLE_REDIS_URL)
        user = a_user()
        try:
            return [await outcomes(limits, "post", user, an_address()) for _ in range(PER_USER + 1)]
        finally:
            await limits.close()

    results = run(scenario())
    assert results[:PER_USER] == ["ok"] * PER_USER
    assert results[PER_USER].startswith("429")
    unreachable = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # said once, not per request


@pytest.fixture(scope="module")
def two_limited_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveServer]]:
    shared_dir = tmp_path_factory.mktemp("shared-limits")
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        serve_nodes(shared_dir, database_url, REDIS_URL, (31, 32), rate_limits=LIMITS) as nodes,
    ):
        yield nodes


def signup(node: LiveServer) -> Account:
    username = f"l{uuid.uuid4().hex[:12]}"
    with node.client() as client:
        response = client.post(
            "/api/v1/auth/signup",
            json={"username": username, "password": TEST_PASSWORD},
            headers={"X-Forwarded-For": an_address()},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(node, username, body["user"]["id"], body["token"])


def post_through(node: LiveServer, account: Account, text: str) -> httpx.Response:
    with node.client(account.token) as client:
        return client.post(
            "/api/v1/posts", json={"text": text}, headers={"X-Forwarded-For": an_address()}
        )


def test_posting_through_both_nodes_meets_one_limit(
    two_limited_nodes: list[LiveServer],
) -> None:
    node_a, node_b = two_limited_nodes
    author = signup(node_a)
    answers = [
        post_through(node, author, f"post {i}")
        for i, node in enumerate((node_a, node_b, node_a, node_b))
    ]
    assert [r.status_code for r in answers[:PER_USER]] == [201] * PER_USER
    refused = answers[PER_USER]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def listen_offer(node: LiveServer, account: Account, space_id: str) -> int:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(base_url=node.url, timeout=20) as client:
            answer = await client.post(
                f"/api/v1/spaces/{space_id}/rtc/listen",
                json={"sdp": pc.localDescription.sdp, "type": "offer"},
                headers={"Authorization": f"Bearer {account.token}"},
            )
        return answer.status_code
    finally:
        await pc.close()


def test_an_offer_forwarded_to_the_media_owner_is_counted_once(
    two_limited_nodes: list[LiveServer],
) -> None:
    owner, other = two_limited_nodes
    host, listener = signup(owner), signup(other)
    with owner.client(host.token) as client:
        space = client.post("/api/v1/spaces", json={"title": "Counted once"}).json()
    with other.client(listener.token) as client:
        assert client.post(f"/api/v1/spaces/{space['id']}/join").status_code == 200

    async def scenario() -> list[int]:
        # The host publishing through the first node makes it the media owner.
        speaker = await connect(owner.url, host.token, space["id"], "publish", ToneTrack())
        try:
            return [await listen_offer(other, listener, space["id"]) for _ in range(PER_USER + 1)]
        finally:
            await speaker.close()

    assert run(scenario()) == [200] * PER_USER + [429]


def test_a_client_claiming_to_be_a_node_is_counted_all_the_same(
    two_limited_nodes: list[LiveServer],
) -> None:
    node, _ = two_limited_nodes
    author = signup(node)
    with node.client(author.token) as client:
        answers = [
            client.post(
                "/api/v1/posts",
                json={"text": f"post {i}"},
                headers={"X-Townhall-Counted": "a guess", "X-Townhall-Forwarded-By": "31"},
            )
            for i in range(PER_USER + 1)
        ]
    assert [r.status_code for r in answers] == [201] * PER_USER + [429]
