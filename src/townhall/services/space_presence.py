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

GONE_RETRY_FIRST_S = 1.0
GONE_RETRY_MAX_S = 10.0
"""A departure that could not be recorded (the database down) is tried again, waiting
twice as long each time up to this: the person leaves, or the Space ends, once it is back."""


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
        self._closed = False

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
        grace_s = self._host_grace_s if is_host else self._participant_grace_s
        self._expire_after(grace_s, space_id, user_id, is_host, GONE_RETRY_FIRST_S)

    def _expire_after(
        self, delay_s: float, space_id: int, user_id: int, is_host: bool, retry_s: float
    ) -> None:
        loop = asyncio.get_running_loop()
        self._timers[(space_id, user_id)] = loop.call_later(
            delay_s,
            lambda: asyncio.ensure_future(self._expire(space_id, user_id, is_host, retry_s)),
        )

    def is_connected(self, space_id: int, user_id: int) -> bool:
        return self._connections.get((space_id, user_id), 0) > 0

    async def _expire(self, space_id: int, user_id: int, is_host: bool, retry_s: float) -> None:
        self._timers.pop((space_id, user_id), None)
        if self.is_connected(space_id, user_id):
            return
        log.info("space %s: %s did not come back (host=%s)", space_id, user_id, is_host)
        try:
            await self._on_gone(space_id, user_id, is_host)
        except Exception as exc:
            # Not dropped: a ghost on stage, or a Space that never ends without its host.
            # Coming back meanwhile (`connected`, `seen`) calls the retry off.
            if retry_s == GONE_RETRY_FIRST_S:
                log.exception("space %s: handling %s's departure failed", space_id, user_id)
            else:
                log.warning("space %s: %s's departure still fails: %s", space_id, user_id, exc)
            if not self._closed and (space_id, user_id) not in self._timers:
                next_s = min(retry_s * 2, GONE_RETRY_MAX_S)
                self._expire_after(retry_s, space_id, user_id, is_host, next_s)

    def close(self) -> None:
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
