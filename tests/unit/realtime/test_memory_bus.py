"""The in-process bus and the EventBus contract every backend shares."""

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from townhall.realtime import (
    BusState,
    EventBus,
    InProcessBus,
    Message,
    RedisBus,
    SubscriptionClosed,
    SubscriptionOverflowed,
    create_bus,
)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class RecordingBus(InProcessBus):
    """An in-process bus that also remembers every publish, to observe what close() flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Message]] = []

    async def publish(self, channel: str, message: Message) -> None:
        self.published.append((channel, message))
        await super().publish(channel, message)


def test_a_subscriber_receives_a_message_published_on_its_channel() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("user:1") as sub:
            await bus.publish("user:1", {"type": "followed", "by": 2})
            assert await sub.get(timeout=1) == {"type": "followed", "by": 2}

    run(scenario())


def test_a_subscriber_does_not_receive_messages_for_other_channels() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1") as sub:
            await bus.publish("space:2", {"n": "other"})
            await bus.publish("space:1", {"n": "mine"})
            assert await sub.get(timeout=1) == {"n": "mine"}
            with pytest.raises(TimeoutError):
                await sub.get(timeout=0)

    run(scenario())


def test_one_subscription_receives_every_channel_it_listens_on_in_publish_order() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("user:1", "space:7") as sub:
            await bus.publish("space:7", {"n": 1})
            await bus.publish("user:1", {"n": 2})
            assert [await sub.get(timeout=1), await sub.get(timeout=1)] == [{"n": 1}, {"n": 2}]

    run(scenario())


def test_every_subscriber_of_a_channel_gets_the_message() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1") as first, bus.subscribe("space:1") as second:
            await bus.publish("space:1", {"type": "reaction"})
            assert await first.get(timeout=1) == {"type": "reaction"}
            assert await second.get(timeout=1) == {"type": "reaction"}

    run(scenario())


def test_get_raises_timeout_error_when_nothing_arrives() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1") as sub, pytest.raises(TimeoutError):
            await sub.get(timeout=0.01)

    run(scenario())


def test_a_slow_subscriber_overflows_and_drops_without_blocking_the_publisher() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1", maxsize=3) as slow, bus.subscribe("space:1") as fast:
            async with asyncio.timeout(1):
                for n in range(5):
                    await bus.publish("space:1", {"n": n})
            assert slow.overflowed
            assert not fast.overflowed
            with pytest.raises(SubscriptionOverflowed):
                await slow.get(timeout=1)
            assert [(await fast.get(timeout=1))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]

    run(scenario())


def test_iterating_an_overflowed_subscription_stops_so_the_consumer_can_resync() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1", maxsize=2) as sub:
            for n in range(3):
                await bus.publish("space:1", {"n": n})
            received = [message async for message in sub]
            assert received == []
            assert sub.overflowed

    run(scenario())


def test_closing_a_subscription_unregisters_it_and_is_idempotent() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        sub = bus.subscribe("space:1")
        assert bus.subscriber_count("space:1") == 1
        sub.close()
        sub.close()
        assert bus.subscriber_count("space:1") == 0
        await bus.publish("space:1", {"n": 1})
        with pytest.raises(SubscriptionClosed):
            await sub.get(timeout=1)

    run(scenario())


def test_leaving_the_with_block_closes_the_subscription() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with bus.subscribe("space:1", "user:1") as sub:
            assert bus.subscriber_count("user:1") == 1
        assert sub.closed
        assert bus.subscriber_count("space:1") == 0
        assert bus.subscriber_count("user:1") == 0

    run(scenario())


def test_closing_a_subscription_ends_a_consumer_waiting_on_it() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        sub = bus.subscribe("space:1")

        async def consume() -> list[Message]:
            return [message async for message in sub]

        consumer = asyncio.create_task(consume())
        await bus.publish("space:1", {"n": 1})
        await asyncio.sleep(0)
        sub.close()
        async with asyncio.timeout(1):
            assert await consumer == [{"n": 1}]
        assert not sub.overflowed

    run(scenario())


def test_subscribing_needs_at_least_one_channel() -> None:
    with pytest.raises(ValueError, match="at least one channel"):
        InProcessBus().subscribe()


def test_publish_threadsafe_from_a_worker_thread_preserves_order() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        try:
            with bus.subscribe("space:1") as sub:

                def service_work() -> None:
                    for n in range(500):
                        bus.publish_threadsafe("space:1", {"n": n})

                await asyncio.to_thread(service_work)
                received = [(await sub.get(timeout=1))["n"] for _ in range(500)]
                assert received == list(range(500))
        finally:
            await bus.close()

    run(scenario())


def test_publish_threadsafe_keeps_each_threads_order_when_threads_interleave() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        barrier = threading.Barrier(3)
        try:
            with bus.subscribe("space:1") as sub:

                def service_work(worker: int) -> None:
                    barrier.wait()
                    for n in range(300):
                        bus.publish_threadsafe("space:1", {"worker": worker, "n": n})

                await asyncio.gather(*(asyncio.to_thread(service_work, w) for w in range(3)))
                received = [await sub.get(timeout=1) for _ in range(900)]
                for worker in range(3):
                    own = [m["n"] for m in received if m["worker"] == worker]
                    assert own == list(range(300))
        finally:
            await bus.close()

    run(scenario())


def test_publish_threadsafe_on_the_loop_thread_is_delivered_in_order() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        try:
            with bus.subscribe("space:1") as sub:
                for n in range(3):
                    bus.publish_threadsafe("space:1", {"n": n})
                assert [(await sub.get(timeout=1))["n"] for _ in range(3)] == [0, 1, 2]
        finally:
            await bus.close()

    run(scenario())


def test_publish_threadsafe_before_start_raises_bus_not_started() -> None:
    bus = InProcessBus()
    with pytest.raises(RuntimeError, match="bus not started"):
        bus.publish_threadsafe("space:1", {"n": 1})


def test_closing_the_bus_publishes_what_threads_already_handed_over() -> None:
    async def scenario() -> None:
        bus = RecordingBus()
        await bus.start()

        def service_work() -> None:
            for n in range(50):
                bus.publish_threadsafe("space:1", {"n": n})

        await asyncio.to_thread(service_work)
        await bus.close()
        assert [message["n"] for _, message in bus.published] == list(range(50))

    run(scenario())


def test_publish_threadsafe_after_close_drops_the_message_instead_of_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> RecordingBus:
        bus = RecordingBus()
        await bus.start()
        await bus.close()
        return bus

    bus = run(scenario())
    bus.publish_threadsafe("space:1", {"n": 1})
    assert bus.published == []
    assert "dropped a message for space:1" in caplog.text


def test_closing_the_bus_ends_every_subscription() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        sub = bus.subscribe("space:1")
        await bus.close()
        await bus.close()
        assert sub.closed
        assert bus.state is BusState.CLOSED
        with pytest.raises(SubscriptionClosed):
            await sub.get(timeout=1)
        with pytest.raises(RuntimeError, match="got closed"):
            bus.subscribe("space:1")

    run(scenario())


def test_starting_a_running_bus_names_the_state_it_expected() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        try:
            with pytest.raises(RuntimeError, match="expected bus new, got running"):
                await bus.start()
        finally:
            await bus.close()

    run(scenario())


def test_create_bus_is_in_process_without_a_redis_url() -> None:
    bus: EventBus = create_bus("")
    assert isinstance(bus, InProcessBus)


def test_create_bus_uses_redis_when_a_url_is_configured_without_connecting_yet() -> None:
    bus = create_bus("redis://127.0.0.1:1/0")
    assert isinstance(bus, RedisBus)
    assert bus.state is BusState.NEW
