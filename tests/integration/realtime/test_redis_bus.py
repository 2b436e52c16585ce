"""RedisBus on a real Redis: several nodes, one database, events flowing between them."""

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
import redis
from redis.asyncio import Redis

from townhall.realtime import Message, RedisBus, Subscription

T = TypeVar("T")

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
WAIT_S = 3.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1) as client:
            client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def prefix() -> str:
    """A fresh channel namespace, so tests sharing one Redis never hear each other."""
    return f"test-{uuid.uuid4().hex}:"


@asynccontextmanager
async def nodes(url: str, *prefixes: str) -> AsyncIterator[list[RedisBus]]:
    """Started buses, one per prefix, each with its own node id; closed on exit."""
    buses = [
        RedisBus(url, node_id=f"node-{i}-{uuid.uuid4().hex[:8]}", prefix=p)
        for i, p in enumerate(prefixes)
    ]
    try:
        for bus in buses:
            await bus.start()
        yield buses
    finally:
        for bus in buses:
            await bus.close()


async def next_message(sub: Subscription) -> Message:
    return await sub.get(timeout=WAIT_S)


def test_a_message_published_on_one_node_reaches_a_subscriber_on_another(
    redis_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        async with nodes(redis_url, prefix, prefix) as (a, b):
            with b.subscribe("space:1") as sub:
                await a.publish("space:1", {"type": "reaction", "emoji": "🎉"})
                assert await next_message(sub) == {"type": "reaction", "emoji": "🎉"}

    run(scenario())


def test_the_publishing_node_delivers_its_own_message_exactly_once(
    redis_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        async with nodes(redis_url, prefix, prefix) as (a, b):
            with a.subscribe("space:1") as local, b.subscribe("space:1") as remote:
                await a.publish("space:1", {"n": 1})
                assert await next_message(local) == {"n": 1}
                # Once b has it, Redis has already sent the echo to a's listener too.
                assert await next_message(remote) == {"n": 1}
                await b.publish("space:1", {"n": 2})
                assert await next_message(local) == {"n": 2}

    run(scenario())


def test_messages_from_a_service_thread_reach_another_node_in_publish_order(
    redis_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        async with nodes(redis_url, prefix, prefix) as (a, b):
            with b.subscribe("space:1") as sub:

                def service_work() -> None:
                    for n in range(300):
                        a.publish_threadsafe("space:1", {"n": n})

                await asyncio.to_thread(service_work)
                received = [(await next_message(sub))["n"] for _ in range(300)]
                assert received == list(range(300))

    run(scenario())


def test_nodes_with_another_prefix_do_not_hear_each_other(redis_url: str, prefix: str) -> None:
    other = f"other-{uuid.uuid4().hex}:"

    async def scenario() -> None:
        async with nodes(redis_url, prefix, prefix, other, other) as (a, a2, b, b2):
            with a2.subscribe("space:1") as same, b.subscribe("space:1") as foreign:
                await a.publish("space:1", {"from": "a"})
                # a2 has it, so Redis has already handled a's PUBLISH for every subscriber.
                assert await next_message(same) == {"from": "a"}
                await b2.publish("space:1", {"from": "b2"})
                assert await next_message(foreign) == {"from": "b2"}

    run(scenario())


def test_a_malformed_event_on_the_channel_is_skipped_with_a_warning(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        admin = Redis.from_url(redis_url)
        try:
            async with nodes(redis_url, prefix, prefix) as (a, b):
                with b.subscribe("space:1") as sub:
                    await admin.publish(prefix + "space:1", b"not json")
                    await a.publish("space:1", {"n": 1})
                    assert await next_message(sub) == {"n": 1}
        finally:
            await admin.aclose()

    run(scenario())
    assert "ignoring malformed event" in caplog.text


def test_a_node_reconnects_after_its_pubsub_connection_is_killed_and_messages_flow_again(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        admin = Redis.from_url(redis_url, decode_responses=True)
        try:
            async with nodes(redis_url, prefix, prefix) as (a, b):
                with b.subscribe("space:1") as sub:
                    await a.publish("space:1", {"phase": "before"})
                    assert await next_message(sub) == {"phase": "before"}

                    listeners = [
                        client["id"]
                        for client in await admin.client_list(_type="pubsub")
                        if client["name"] == b.client_name + "-listen"
                    ]
                    assert len(listeners) == 1
                    # Only b's listener: other test runs may share this Redis.
                    assert await admin.client_kill_filter(_id=listeners[0], _type="pubsub") == 1

                    # Events sent while b is away are lost (pub/sub is at-most-once), so
                    # probe until b is back, then check that ordinary traffic flows.
                    async with asyncio.timeout(WAIT_S):
                        probe = 0
                        while True:
                            await a.publish("space:1", {"phase": "probe", "n": probe})
                            try:
                                await sub.get(timeout=0.05)
                                break
                            except TimeoutError:
                                probe += 1
                    await a.publish("space:1", {"phase": "after"})
                    while (message := await next_message(sub))["phase"] == "probe":
                        pass
                    assert message == {"phase": "after"}
        finally:
            await admin.aclose()

    with caplog.at_level(logging.INFO, logger="townhall.realtime"):
        run(scenario())
    assert "Redis pub/sub connection lost" in caplog.text
    assert "Redis pub/sub reconnected" in caplog.text


def test_a_node_without_redis_still_delivers_locally_and_logs_instead_of_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        bus = RedisBus(UNREACHABLE_REDIS_URL, ready_timeout_s=0.2)
        await bus.start()
        try:
            with bus.subscribe("space:1") as sub:
                await bus.publish("space:1", {"n": 1})
                bus.publish_threadsafe("space:1", {"n": 2})
                assert await sub.get(timeout=1) == {"n": 1}
                assert await sub.get(timeout=1) == {"n": 2}
        finally:
            await bus.close()

    run(scenario())
    assert "Redis pub/sub not subscribed" in caplog.text
    assert "Redis pub/sub connection lost" in caplog.text
