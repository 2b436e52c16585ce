"""Collects reactions for a short window and sends each Space's batch as one event.

A burst of thousands of reactions then costs one bus message and one frame per listener
per window, instead of one per reaction per listener.
"""

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from townhall.realtime.bus import EventBus
from townhall.realtime.frames import EncodedOnce

log = logging.getLogger("townhall.realtime")

FLUSH_INTERVAL_S = 0.1
MAX_BATCH = 500
"""Reactions a Space sends per window; past it a burst is sampled, counts still add up."""


class ReactionBatcher:
    def __init__(
        self,
        bus: EventBus,
        channel_for: Callable[[int], str],
        format_time: Callable[[datetime], str],
        interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self._bus = bus
        self._channel_for = channel_for
        self._format_time = format_time
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: dict[int, list[dict[str, str]]] = defaultdict(list)
        self._dropped: dict[int, int] = defaultdict(int)
        self._task: asyncio.Task[None] | None = None

    def add(self, space_id: int, user_id: int, emoji: str) -> None:
        """Thread-safe: called from request handlers."""
        with self._lock:
            batch = self._pending[space_id]
            if len(batch) < MAX_BATCH:
                batch.append({"user_id": str(user_id), "emoji": emoji})
            else:
                self._dropped[space_id] += 1

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reaction-batcher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except Exception:
                log.exception("reaction flush failed")

    async def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
            dropped, self._dropped = self._dropped, defaultdict(int)
        now = self._format_time(datetime.now(UTC))
        for space_id, batch in pending.items():
            await self._bus.publish(
                self._channel_for(space_id), _frame(space_id, batch, dropped[space_id], now)
            )


def _frame(space_id: int, batch: list[dict[str, str]], dropped: int, at: str) -> dict[str, Any]:
    if len(batch) == 1 and not dropped:
        return EncodedOnce(type="reaction", space_id=str(space_id), seq=None, at=at, data=batch[0])
    return EncodedOnce(
        type="reactions",
        space_id=str(space_id),
        seq=None,
        at=at,
        data={"items": batch, "dropped": dropped},
    )
