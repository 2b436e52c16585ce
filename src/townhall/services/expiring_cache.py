"""A small thread-safe map whose entries expire, with tombstones for keys just revoked."""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Remembers values for `ttl_s`; a `revoke`d key cannot be put back for `ttl_s`.

    The tombstone closes a race: a lookup that read the database just before a revocation
    committed must not re-cache what was revoked. `ttl_s` 0 disables the cache.
    """

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}
        self._revoked: dict[K, float] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        now = self._monotonic()
        with self._lock:
            revoked_until = self._revoked.get(key)
            if revoked_until is not None:
                if revoked_until > now:
                    return
                del self._revoked[key]
            if len(self._entries) >= self._max_entries:
                self._prune(now)
            self._entries[key] = (now + self.ttl_s, value)

    def revoke(self, key: K) -> None:
        """Forget the key now and refuse to remember it again for a while."""
        now = self._monotonic()
        with self._lock:
            self._entries.pop(key, None)
            if len(self._revoked) >= self._max_entries:
                self._revoked = {k: t for k, t in self._revoked.items() if t > now}
            self._revoked[key] = now + self.ttl_s

    def _prune(self, now: float) -> None:
        self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
        if len(self._entries) >= self._max_entries:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
