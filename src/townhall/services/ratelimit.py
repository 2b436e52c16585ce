"""Sliding-window counters for rate limits; in-process, keyed by any string."""

import threading
import time
from collections import deque
from collections.abc import Callable


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
