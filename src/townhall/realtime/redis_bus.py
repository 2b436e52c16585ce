"""Redis pub/sub transport, so an event published on one server process reaches every other.

```
 publish() ─┬─> _deliver_local (this node, at once)
            └─> send queue ──sender task──> PUBLISH prefix+channel {"node", "message"}
                                                   │
 Redis ──PSUBSCRIBE prefix*──> listener task ──────┘ (every node, own echoes dropped)
                                   └─> _deliver_local
```

Pub/sub is at-most-once: while a node is disconnected it misses events, and clients
catch up by sequence number. So a Redis outage is logged, never raised into callers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from townhall.realtime.bus import CLOSE_DRAIN_TIMEOUT_S, EventBus, Message

INITIAL_BACKOFF_S = 0.1
"""First wait before reconnecting the listener; doubles per failed attempt."""

MAX_BACKOFF_S = 2.0
"""Longest wait between reconnection attempts, so recovery after an outage is quick."""

READY_TIMEOUT_S = 5.0
"""How long start() waits for the first subscription before carrying on without it."""

CONNECT_TIMEOUT_S = 2.0
"""Socket connect timeout, so an unreachable Redis fails fast instead of stalling sends."""

SEND_QUEUE_MAX = 10_000
"""Events waiting for Redis; past this they reach local subscribers only."""

SEND_BATCH_MAX = 100
"""Events sent per pipeline round trip when publishers outpace Redis."""

logger = logging.getLogger("townhall.realtime")

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")
_CLIENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def _glob_escape(text: str) -> str:
    """Make a prefix match literally inside a PSUBSCRIBE pattern."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class RedisBus(EventBus):
    """Event bus shared by several server processes through Redis pub/sub."""

    def __init__(
        self,
        url: str,
        node_id: str | None = None,
        prefix: str = "townhall:",
        *,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self._url = url
        self.node_id = node_id or uuid.uuid4().hex
        self.prefix = prefix
        self._pattern = _glob_escape(prefix) + "*"
        self._ready_timeout_s = ready_timeout_s
        # Redis refuses client names with spaces or control characters.
        self.client_name = "townhall-" + _CLIENT_NAME_UNSAFE.sub("_", self.node_id)
        self._send_queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue(
            maxsize=SEND_QUEUE_MAX
        )
        self._send_sealed = False
        self._send_failing = False
        self._send_dropping = False
        self._subscribed = asyncio.Event()
        self._client: Redis | None = None
        self._listen_client: Redis | None = None
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<RedisBus node={self.node_id} prefix={self.prefix!r} {self.state.value}>"

    async def publish(self, channel: str, message: Message) -> None:
        """Deliver locally at once and queue for Redis; raises TypeError if not JSON-able."""
        payload = json.dumps({"node": self.node_id, "message": message}, separators=(",", ":"))
        self._deliver_local(channel, message)
        if self._send_sealed:
            logger.warning("event bus is closed; %s reached local subscribers only", channel)
            return
        try:
            self._send_queue.put_nowait((self.prefix + channel, payload))
        except asyncio.QueueFull:
            if not self._send_dropping:
                self._send_dropping = True
                logger.warning(
                    "Redis send queue full (%d events); events reach this node only",
                    SEND_QUEUE_MAX,
                )
            return
        self._send_dropping = False

    async def _on_start(self) -> None:
        self._client = Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            client_name=self.client_name + "-pub",
        )
        # No retries inside redis-py: the listener loop owns reconnection, logging and backoff.
        self._listen_client = Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            client_name=self.client_name + "-listen",
            retry=Retry(NoBackoff(), 0),
        )
        self._sender = asyncio.create_task(
            self._send_loop(self._client), name=f"townhall-bus-send-{self.node_id}"
        )
        self._listener = asyncio.create_task(
            self._listen_loop(self._listen_client), name=f"townhall-bus-listen-{self.node_id}"
        )
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=self._ready_timeout_s)
        except TimeoutError:
            logger.warning(
                "Redis pub/sub not subscribed after %.1f s; events from other nodes will "
                "arrive once it is",
                self._ready_timeout_s,
            )

    async def _on_close(self) -> None:
        await self._stop_sender()
        listener = self._listener
        if listener is not None:
            listener.cancel()
            await asyncio.wait({listener})
            self._listener = None
        for client in (self._client, self._listen_client):
            if client is not None:
                await client.aclose()
        self._client = None
        self._listen_client = None

    async def _stop_sender(self) -> None:
        """Send what publishers already handed over, within a bounded time."""
        self._send_sealed = True
        sender = self._sender
        if sender is None:
            return
        try:
            async with asyncio.timeout(CLOSE_DRAIN_TIMEOUT_S):
                await self._send_queue.put(None)
                await asyncio.shield(sender)
        except TimeoutError:
            logger.warning("closing with %d events not sent to Redis", self._send_queue.qsize())
        if not sender.done():
            sender.cancel()
            await asyncio.wait({sender})
        self._sender = None

    async def _send_loop(self, client: Redis) -> None:
        while True:
            item = await self._send_queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < SEND_BATCH_MAX:
                try:
                    queued = self._send_queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if queued is None:
                    stop = True
                    break
                batch.append(queued)
            await self._send_batch(client, batch)
            if stop:
                return

    async def _send_batch(self, client: Redis, batch: list[tuple[str, str]]) -> None:
        """PUBLISH in order in one round trip; on failure log once per outage and drop."""
        try:
            async with client.pipeline(transaction=False) as pipe:
                for redis_channel, payload in batch:
                    pipe.publish(redis_channel, payload)
                await pipe.execute()
        except Exception as exc:
            if not self._send_failing:
                self._send_failing = True
                logger.warning(
                    "cannot publish to Redis (%s: %s); events reach this node only",
                    type(exc).__name__,
                    exc,
                )
            else:
                logger.debug("still cannot publish to Redis; dropped %d events", len(batch))
            return
        if self._send_failing:
            self._send_failing = False
            logger.info("publishing to Redis again")

    async def _listen_loop(self, client: Redis) -> None:
        """Keep one PSUBSCRIBE alive for the bus's whole life, reconnecting with backoff."""
        delay_s = INITIAL_BACKOFF_S
        failing = False
        while True:
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self._pattern)
                async for item in pubsub.listen():
                    kind = item["type"]
                    if kind == "pmessage":
                        self._on_redis_message(item["channel"], item["data"])
                    elif kind == "psubscribe":
                        if failing:
                            logger.info("Redis pub/sub reconnected")
                        failing = False
                        delay_s = INITIAL_BACKOFF_S
                        self._subscribed.set()
                raise ConnectionError("pub/sub stream ended")
            except Exception as exc:
                self._subscribed.clear()
                level = logging.DEBUG if failing else logging.WARNING
                logger.log(
                    level,
                    "Redis pub/sub connection lost (%s: %s); reconnecting in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay_s,
                )
                failing = True
            finally:
                await self._close_pubsub(pubsub)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, MAX_BACKOFF_S)

    @staticmethod
    async def _close_pubsub(pubsub: PubSub) -> None:
        try:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        except Exception as exc:
            logger.debug("closing a broken pub/sub connection failed: %s", exc)

    def _on_redis_message(self, raw_channel: bytes, data: bytes) -> None:
        """Unwrap an envelope from another node and deliver it; drop our own echoes."""
        try:
            channel = raw_channel.decode().removeprefix(self.prefix)
            envelope = json.loads(data)
            node = envelope["node"]
            message = envelope["message"]
            if not isinstance(message, dict):
                raise TypeError(f"message is {type(message).__name__}, not an object")
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring malformed event on %r: %s", raw_channel, exc)
            return
        if node == self.node_id:
            return
        self._deliver_local(channel, message)
