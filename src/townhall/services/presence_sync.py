"""Presence across nodes: who is connected where, so no node gives up on a person whose
connection simply moved to another node (a reload behind a load balancer, a failover).

```
 connected here ─> announce ─> PRESENCE_CHANNEL {"seen", space, user} ─> every node: seen()
 took over a Space ─> ask ─> {"ask", space} ─> every node: announce_all(space)
```
"""

import asyncio
import contextlib
import logging
from typing import Any

from townhall.realtime.bus import EventBus
from townhall.services.space_presence import SpacePresence

log = logging.getLogger("townhall.spaces")

PRESENCE_CHANNEL = "nodes:presence"


class PresenceSync:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._presence: SpacePresence | None = None
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    def announce(self, space_id: int, user_id: int) -> None:
        self._send({"type": "seen", "space_id": space_id, "user_id": user_id})

    def ask(self, space_id: int) -> None:
        self._send({"type": "ask", "space_id": space_id})

    def _send(self, message: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._bus.publish(PRESENCE_CHANNEL, message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    def start(self, presence: SpacePresence) -> None:
        self._presence = presence
        subscription = self._bus.subscribe(PRESENCE_CHANNEL)
        self._task = asyncio.create_task(self._listen(subscription), name="presence-sync")

    async def _listen(self, subscription: Any) -> None:
        with subscription:
            async for message in subscription:
                if self._presence is None:
                    continue
                try:
                    space_id = int(message["space_id"])
                    if message.get("type") == "seen":
                        self._presence.seen(space_id, int(message["user_id"]))
                    elif message.get("type") == "ask":
                        self._presence.announce_all(space_id)
                except (KeyError, TypeError, ValueError):
                    log.warning("ignored a malformed presence message: %r", message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
