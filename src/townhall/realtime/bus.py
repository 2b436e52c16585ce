"""The event bus contract: channels, bounded per-consumer subscriptions, thread-safe publishing.

```
 service thread ──publish_threadsafe──┐
                                      v
 event loop:  outbox ──pump──> publish(channel, message)
                                      │
                     ┌────────────────┴───────────────┐
                     v                                v
              _deliver_local                 backend transport
        (put_nowait into each             (RedisBus: PUBLISH to other
         matching Subscription)            nodes, which deliver locally)
```

Backends implement only `publish` (and, if they talk to other nodes, a listener that
calls `_deliver_local`). Everything else, including the lifecycle, lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self

Message = dict[str, Any]
"""A JSON-able event payload; treated as immutable once published."""

DEFAULT_QUEUE_SIZE = 1000
"""Messages a subscription may hold before its consumer counts as too slow."""

CLOSE_DRAIN_TIMEOUT_S = 2.0
"""How long close() waits for already accepted messages to be published."""

logger = logging.getLogger("townhall.realtime")


class SubscriptionClosed(Exception):
    """Raised by Subscription.get() once the subscription can yield nothing more."""


class SubscriptionOverflowed(SubscriptionClosed):
    """Raised by Subscription.get() when the consumer fell behind and messages were dropped."""


class BusState(enum.Enum):
    """Lifecycle of a bus: created, running (has a loop), closed for good."""

    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


class Subscription:
    """One consumer's bounded view of some channels, so a slow client never blocks a publisher."""

    def __init__(
        self, bus: EventBus, channels: frozenset[str], maxsize: int = DEFAULT_QUEUE_SIZE
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._bus = bus
        self.channels = channels
        self.overflowed = False
        self.closed = False
        # None is the wake-up sentinel close() puts in front of a waiting get().
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=maxsize)

    def _offer(self, message: Message) -> None:
        """Queue a message without waiting; on a full queue mark overflow and drop from now on."""
        if self.closed or self.overflowed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            logger.info("subscription to %s overflowed; dropping its messages", self._label())

    def _label(self) -> str:
        return ",".join(sorted(self.channels))

    # A timeout argument (not only asyncio.timeout) keeps the WebSocket heartbeat loop short.
    async def get(self, timeout: float | None = None) -> Message:  # noqa: ASYNC109
        """Wait for the next message; raises TimeoutError, SubscriptionClosed or its Overflowed."""
        self._raise_if_ended()
        async with asyncio.timeout(timeout):
            message = await self._queue.get()
        self._raise_if_ended()
        if message is None:
            raise SubscriptionClosed("subscription woken without a message")
        return message

    def ready(self) -> list[Message]:
        """Messages already queued, taken without waiting (a consumer that batches them)."""
        taken: list[Message] = []
        while not self._queue.empty():
            message = self._queue.get_nowait()
            if message is None:
                break
            taken.append(message)
        return taken

    def _raise_if_ended(self) -> None:
        # Overflow wins over close: the consumer must learn that it has to resync.
        if self.overflowed:
            raise SubscriptionOverflowed(f"subscription to {self._label()} overflowed")
        if self.closed:
            raise SubscriptionClosed(f"subscription to {self._label()} is closed")

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Message:
        """Iteration ends on close or overflow; check `overflowed` afterwards to decide a resync."""
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Stop receiving and wake a waiting consumer; safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        self._bus._unsubscribe(self)
        # A consumer can only be waiting on an empty queue, so the sentinel always fits then.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "overflowed" if self.overflowed else "closed" if self.closed else "open"
        return f"<Subscription {self._label()} {state} queued={self._queue.qsize()}>"


class EventBus(ABC):
    """Carries events from services to WebSocket consumers; backends differ only in transport."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._state = BusState.NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        # Messages from publish_threadsafe, published one by one so per-thread order holds.
        self._outbox: asyncio.Queue[tuple[str, Message] | None] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._outbox_sealed = False

    @property
    def state(self) -> BusState:
        return self._state

    def subscribe(self, *channels: str, maxsize: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        """Register a consumer for the channels; call from the event loop thread."""
        if not channels:
            raise ValueError("subscribe() needs at least one channel")
        if self._state is BusState.CLOSED:
            raise RuntimeError("cannot subscribe: expected bus new or running, got closed")
        subscription = Subscription(self, frozenset(channels), maxsize=maxsize)
        for channel in subscription.channels:
            self._subscriptions.setdefault(channel, set()).add(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            subscribers = self._subscriptions.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[channel]

    def _deliver_local(self, channel: str, message: Message) -> None:
        """Hand a message to every local subscriber of the channel without ever waiting."""
        for subscription in self._subscriptions.get(channel, ()):
            subscription._offer(message)

    def subscriber_count(self, channel: str) -> int:
        """How many local consumers listen on a channel (for metrics and tests)."""
        return len(self._subscriptions.get(channel, ()))

    @abstractmethod
    async def publish(self, channel: str, message: Message) -> None:
        """Deliver to local subscribers at once and to other nodes if the backend has any."""

    async def start(self) -> None:
        """Bind the bus to the running loop so other threads can publish into it."""
        if self._state is not BusState.NEW:
            raise RuntimeError(
                f"cannot start: expected bus {BusState.NEW.value}, got {self._state.value}"
            )
        self._loop = asyncio.get_running_loop()
        self._state = BusState.RUNNING
        self._pump = asyncio.create_task(self._pump_outbox(), name="townhall-bus-outbox")
        await self._on_start()

    async def _on_start(self) -> None:  # noqa: B027 - optional hook, empty on purpose
        """Backend hook: open connections and start listeners."""

    async def close(self) -> None:
        """Publish what was already accepted, stop the backend and end every subscription."""
        if self._state is BusState.CLOSED:
            return
        was_running = self._state is BusState.RUNNING
        self._state = BusState.CLOSED
        if was_running:
            # Let call_soon_threadsafe callbacks scheduled before close() land in the outbox.
            await asyncio.sleep(0)
            await self._stop_pump()
        await self._on_close()
        for subscribers in list(self._subscriptions.values()):
            for subscription in list(subscribers):
                subscription.close()
        self._subscriptions.clear()
        self._loop = None

    async def _on_close(self) -> None:  # noqa: B027 - optional hook, empty on purpose
        """Backend hook: flush, stop listeners and close connections."""

    async def _stop_pump(self) -> None:
        pump = self._pump
        if pump is None:
            return
        self._outbox_sealed = True
        self._outbox.put_nowait(None)
        try:
            await asyncio.wait_for(pump, timeout=CLOSE_DRAIN_TIMEOUT_S)
        except TimeoutError:
            logger.warning(
                "event bus closed before %d messages were published", self._outbox.qsize()
            )
        self._pump = None

    async def _pump_outbox(self) -> None:
        while True:
            item = await self._outbox.get()
            if item is None:
                return
            channel, message = item
            try:
                await self.publish(channel, message)
            except Exception:
                logger.exception("publishing to %s failed", channel)

    def publish_threadsafe(self, channel: str, message: Message) -> None:
        """Publish from any thread (services publish from a worker pool after their commit).

        Messages published from one thread reach each channel in the order they were
        published. Raises RuntimeError("bus not started") before start(): the bus has no
        event loop to hand the message to, and delivering into asyncio queues from another
        thread is not safe. After close() the message is logged and dropped, so a request
        finishing during shutdown does not fail after its commit.
        """
        loop = self._loop
        if self._state is BusState.NEW or loop is None:
            if self._state is BusState.CLOSED:
                logger.warning("event bus is closed; dropped a message for %s", channel)
                return
            raise RuntimeError("bus not started")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(channel, message)
        else:
            try:
                loop.call_soon_threadsafe(self._enqueue, channel, message)
            except RuntimeError:
                # The loop closed between our check and the call: the bus is gone.
                logger.warning("event loop is closed; dropped a message for %s", channel)

    def _enqueue(self, channel: str, message: Message) -> None:
        if self._outbox_sealed:
            logger.warning("event bus is closed; dropped a message for %s", channel)
            return
        self._outbox.put_nowait((channel, message))
