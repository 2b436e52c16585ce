"""Who is connected to each Space on this node, and what happens when someone vanishes.

A person whose last connection to a Space closes gets a grace period to come back (a
reload, a flaky network): a participant then leaves, the host's absence ends the Space.
With several nodes they may come back through another node: every connection is announced
(`announce`), and an announcement from anywhere calls off this node's wait (`seen`).
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

log = logging.getLogger("townhall.spaces")

Gone = Callable[[int, int, bool], Awaitable[None]]
"""(space_id, user_id, is_host) -> called when the grace period ran out."""
Announce = Callable[[int, int], None]
"""(space_id, user_id) -> tell the other nodes this person is connected here."""


class SpacePresence:
    def __init__(
        self,
        on_gone: Gone,
        participant_grace_s: float,
        host_grace_s: float,
        announce: Announce | None = None,
    ) -> None:
        self._on_gone = on_gone
        self._announce = announce
        self._participant_grace_s = participant_grace_s
        self._host_grace_s = host_grace_s
        self._connections: dict[tuple[int, int], int] = defaultdict(int)
        self._timers: dict[tuple[int, int], asyncio.TimerHandle] = {}

    def connected(self, space_id: int, user_id: int) -> None:
        key = (space_id, user_id)
        self._connections[key] += 1
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if self._announce is not None:
            self._announce(space_id, user_id)

    def seen(self, space_id: int, user_id: int) -> None:
        """They are connected through another node: that node waits if they drop again."""
        timer = self._timers.pop((space_id, user_id), None)
        if timer is not None:
            timer.cancel()

    def announce_all(self, space_id: int) -> None:
        """Answers another node's question: who is connected to this Space here."""
        if self._announce is None:
            return
        for connected_space, user_id in list(self._connections):
            if connected_space == space_id:
                self._announce(space_id, user_id)

    def disconnected(self, space_id: int, user_id: int, is_host: bool) -> None:
        key = (space_id, user_id)
        self._connections[key] -= 1
        if self._connections[key] > 0:
            return
        del self._connections[key]
        self._start_grace(space_id, user_id, is_host)

    def expect(self, space_id: int, user_id: int, is_host: bool) -> None:
        """After a restart, everyone in a live Space must come back within their grace."""
        if not self.is_connected(space_id, user_id) and (space_id, user_id) not in self._timers:
            self._start_grace(space_id, user_id, is_host)

    def _start_grace(self, space_id: int, user_id: int, is_host: bool) -> None:
        key = (space_id, user_id)
        grace_s = self._host_grace_s if is_host else self._participant_grace_s
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(
            grace_s, lambda: asyncio.ensure_future(self._expire(space_id, user_id, is_host))
        )

    def is_connected(self, space_id: int, user_id: int) -> bool:
        return self._connections.get((space_id, user_id), 0) > 0

    async def _expire(self, space_id: int, user_id: int, is_host: bool) -> None:
        self._timers.pop((space_id, user_id), None)
        if self.is_connected(space_id, user_id):
            return
        log.info("space %s: %s did not come back (host=%s)", space_id, user_id, is_host)
        try:
            await self._on_gone(space_id, user_id, is_host)
        except Exception:
            log.exception("space %s: handling %s's departure failed", space_id, user_id)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
