"""Sliding-window counters for rate limits; in-process, keyed by any string.

In-process means per node. With several nodes the named limits are counted in Redis
instead (realtime/redis_rate_limits.py), falling back to these while Redis is away.
"""

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from townhall.config import RATE_LIMIT_NAMES, RateLimits
from townhall.domain.errors import RateLimited


class SlidingWindowLimiter:
    """Allows `limit` hits per `window_s` per key; safe to share between threads."""

    def __init__(
        self, limit: int, window_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self._window_s:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return self._hits.setdefault(key, deque())
        return hits

    def retry_after_s(self, key: str) -> float | None:
        """None when another hit is allowed now, else seconds until one is."""
        with self._lock:
            now = self._monotonic()
            hits = self._prune(key, now)
            if len(hits) < self._limit:
                if not hits:
                    del self._hits[key]
                return None
            return hits[0] + self._window_s - now

    def acquire(self, key: str) -> float | None:
        """Check and count in one step, so concurrent callers cannot all slip under the limit.

        Returns None when this hit was allowed (and counted), else seconds to wait.
        """
        with self._lock:
            now = self._monotonic()
            hits = self._prune(key, now)
            if len(hits) < self._limit:
                hits.append(now)
                return None
            return hits[0] + self._window_s - now

    def hit(self, key: str) -> None:
        with self._lock:
            now = self._monotonic()
            self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class RateLimitCounter(Protocol):
    """What a use case needs of the named limits, wherever they are counted."""

    async def count(self, name: str, user_key: str | None, ip: str | None) -> None:
        """Counts one `name` hit for the user and the address; RateLimited when over either."""
        ...

    async def peer_key(self) -> str | None:
        """What a request forwarded by another node carries to say it was counted there;
        None where nothing is forwarded (one node)."""
        ...

    async def close(self) -> None:
        """Lets go of whatever the counts live in, when the server stops."""
        ...


class NamedRateLimits:
    """The limits of settings.rate_limits by name, each counted per user and per address.

    One lock over the pair: a hit is counted on both sides or on neither, so a request
    refused for its address does not also use up its user's allowance.
    """

    def __init__(
        self, settings: RateLimits, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits: dict[
            str, tuple[SlidingWindowLimiter | None, SlidingWindowLimiter | None]
        ] = {}
        for name in RATE_LIMIT_NAMES:
            limit = settings.of(name)
            per_user = (
                SlidingWindowLimiter(limit.per_user, limit.window_s, monotonic)
                if limit.per_user
                else None
            )
            per_ip = (
                SlidingWindowLimiter(limit.per_ip, limit.window_s, monotonic)
                if limit.per_ip
                else None
            )
            self._limits[name] = (per_user, per_ip)
        self._lock = threading.Lock()

    def check(self, name: str, user_key: str | None, ip: str | None) -> None:
        """Counts one `name` hit for the user and the address; RateLimited when over either."""
        per_user, per_ip = self._limits[name]
        checks = [
            (limiter, key)
            for limiter, key in ((per_user, user_key), (per_ip, ip))
            if limiter is not None and key is not None
        ]
        with self._lock:
            waits = [w for lim, key in checks if (w := lim.retry_after_s(key)) is not None]
            if waits:
                raise RateLimited(
                    f"Too many {name.replace('_', ' ')} requests; "
                    f"try again in {math.ceil(max(waits))} s.",
                    retry_after_s=math.ceil(max(waits)),
                )
            for limiter, key in checks:
                limiter.hit(key)

    async def count(self, name: str, user_key: str | None, ip: str | None) -> None:
        """`check` for callers on the event loop: it never waits, so it needs no thread."""
        self.check(name, user_key, ip)

    async def peer_key(self) -> str | None:
        """One node forwards nothing."""
        return None

    async def close(self) -> None:
        """Nothing to let go of: the counts are this process's memory."""
