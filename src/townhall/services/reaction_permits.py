"""Who may react in a live Space, known in memory so an accepted reaction asks no database.

A reaction is allowed to a present participant of a live Space who is not blocked with
its host. Checking that took a read transaction and ~6 queries per reaction. Here each
node keeps, per Space it watches, the people it has *verified* (or seen join through its
own services) and drops them as soon as anything could have changed the answer:

- on this node, the services call `joined` / `left` / `forget_users` / `forget_space`
  right after their commit (`UnitOfWork.after_commit`);
- from any node (the Redis bus delivers every node's events here too), `PermitWatcher`
  follows the Space's event channel and drops whoever left, was removed or changed role,
  and the whole Space when it ends or its subscription overflows; the `access` channel
  carries blocks.

Someone not in the set is not refused: the caller falls back to the database and, if the
answer is yes, `remember`s it. A generation number per Space, bumped on every drop there, keeps a
check that raced with a drop from remembering a stale yes. Only yes is ever cached.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from townhall.realtime.bus import EventBus, Subscription, SubscriptionClosed

log = logging.getLogger("townhall.spaces")

ACCESS_CHANNEL = "access"
"""Events that change who may see whom (blocks), for every node's caches."""

MAX_WATCHED_SPACES = 10_000

# A participant.* event for these types leaves the person allowed to react.
_HARMLESS_PARTICIPANT_EVENTS = frozenset({"participant.joined", "participant.muted"})


class ReactionPermits:
    """Thread-safe: services call it from worker threads, reactions from the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._members: dict[int, set[int]] = {}
        """Only Spaces being watched have a key; their set holds verified reactors."""
        self._generations: dict[int, int] = {}
        """Per watched Space, bumped on every drop there; values come from one counter, so
        a number handed out before a Space was forgotten never matches again."""
        self._counter = 0
        self.watch: Callable[[int], bool] | None = None
        """Loop thread: start following a Space's events; False when it cannot."""

    def allows(self, space_id: int, user_id: int) -> bool:
        members = self._members.get(space_id)
        return members is not None and user_id in members

    def prepare(self, space_id: int) -> tuple[int | None, bool]:
        """Call on the loop before checking the database: (the generation to hand to
        remember(), whether the Space was just taken on, so that its whole audience is
        worth loading at once)."""
        generation = self._generations.get(space_id)
        if generation is not None:
            return generation, False
        if self.watch is None or not self.watch(space_id):
            return None, False
        with self._lock:
            if space_id in self._members:
                return self._generations[space_id], False
            self._members[space_id] = set()
            return self._bump(space_id), True

    def _bump(self, space_id: int) -> int:
        """Call holding the lock."""
        self._counter += 1
        self._generations[space_id] = self._counter
        return self._counter

    def remember(self, space_id: int, user_id: int, generation: int | None) -> None:
        """Record a yes from the database, unless something was dropped meanwhile."""
        self.remember_all(space_id, (user_id,), generation)

    def remember_all(self, space_id: int, user_ids: Iterable[int], generation: int | None) -> None:
        with self._lock:
            if generation is None or generation != self._generations.get(space_id):
                return
            self._members[space_id].update(user_ids)

    def joined(self, space_id: int, user_id: int) -> None:
        """A join committed on this node: it passed every access check."""
        with self._lock:
            members = self._members.get(space_id)
            if members is not None:
                members.add(user_id)

    def left(self, space_id: int, user_id: int) -> None:
        with self._lock:
            members = self._members.get(space_id)
            if members is not None:
                self._bump(space_id)
                members.discard(user_id)

    def forget_users(self, user_ids: Iterable[int]) -> None:
        """Drop these people from every Space (a block between them and someone)."""
        dropped = set(user_ids)
        with self._lock:
            for space_id, members in self._members.items():
                self._bump(space_id)
                members.difference_update(dropped)

    def forget_space(self, space_id: int) -> None:
        with self._lock:
            self._members.pop(space_id, None)
            self._generations.pop(space_id, None)

    def watched(self) -> set[int]:
        return set(self._members)


def _user_id_of(frame: dict[str, Any]) -> int | None:
    data = frame.get("data")
    raw = data.get("user_id") if isinstance(data, dict) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class PermitWatcher:
    """Keeps ReactionPermits right when the change happened on another node (or anywhere)."""

    def __init__(
        self,
        bus: EventBus,
        permits: ReactionPermits,
        channel_for: Callable[[int], str],
        max_spaces: int = MAX_WATCHED_SPACES,
    ) -> None:
        self._bus = bus
        self._permits = permits
        self._channel_for = channel_for
        self._max_spaces = max_spaces
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._access: asyncio.Task[None] | None = None
        permits.watch = self.watch

    async def start(self) -> None:
        subscription = self._bus.subscribe(ACCESS_CHANNEL)
        self._access = asyncio.create_task(self._follow_access(subscription), name="permits")

    def watch(self, space_id: int) -> bool:
        if space_id in self._tasks:
            return True
        if len(self._tasks) >= self._max_spaces or self._access is None:
            return False
        subscription = self._bus.subscribe(self._channel_for(space_id))
        self._tasks[space_id] = asyncio.create_task(
            self._follow_space(space_id, subscription), name=f"permits-{space_id}"
        )
        return True

    async def _follow_space(self, space_id: int, subscription: Subscription) -> None:
        try:
            with subscription:
                async for frame in subscription:
                    kind = frame.get("type")
                    if kind == "space.ended":
                        return
                    if not isinstance(kind, str) or not kind.startswith("participant."):
                        continue
                    if kind in _HARMLESS_PARTICIPANT_EVENTS:
                        continue
                    user_id = _user_id_of(frame)
                    if user_id is None:
                        return  # cannot tell whom it concerns: start over
                    self._permits.left(space_id, user_id)
        except SubscriptionClosed:
            log.info("space %s: reaction permits resubscribe after an overflow", space_id)
        finally:
            self._tasks.pop(space_id, None)
            self._permits.forget_space(space_id)

    async def _follow_access(self, subscription: Subscription) -> None:
        with contextlib.suppress(SubscriptionClosed), subscription:
            async for frame in subscription:
                raw = frame.get("user_ids")
                if isinstance(raw, list):
                    self._permits.forget_users(int(u) for u in raw)
                else:
                    for space_id in self._permits.watched():
                        self._permits.forget_space(space_id)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        if self._access is not None:
            tasks.append(self._access)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._access = None
