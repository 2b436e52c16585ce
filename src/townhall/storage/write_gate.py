"""One process-wide, first-come-first-served queue in front of write transactions.

SQLite lets one writer in at a time and makes the others poll in its busy handler, which
is not fair: under a burst a writer could sleep-and-retry past its timeout while others
overtook it, and a writer holding the lock but waiting for the GIL kept everyone polling
(joins failed with `database is locked` and a 500). Queueing writers here, in arrival
order, means the database lock is only ever asked for by one writer of this process, and
a request that would wait too long, or arrive at a queue already too long, is refused at
once with a clean 503 instead of a late failure. Nothing is written before the gate opens.
"""

import threading
from collections import deque
from types import TracebackType


class WritersBusy(Exception):
    """Too many writers are queued, or this one waited too long: try again shortly."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = max(1, retry_after_s)


class WriterGate:
    """Lets at most `capacity` writers in at once; the rest wait in FIFO order.

    Reentrant per thread: a use case that (unusually) opens a write inside a write does not
    wait for itself. `capacity` 1 suits SQLite; on PostgreSQL it bounds concurrent writers
    to what the connection pool can serve.
    """

    def __init__(self, capacity: int, max_waiting: int, max_wait_s: float) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._active = 0
        self._waiters: deque[threading.Event] = deque()
        self._local = threading.local()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def active(self) -> int:
        return self._active

    def acquire(self) -> None:
        """Returns once this thread may write; raises WritersBusy when it may not soon."""
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            return
        with self._lock:
            if self._active < self.capacity and not self._waiters:
                self._active += 1
                self._local.depth = 1
                return
            if len(self._waiters) >= self.max_waiting:
                raise WritersBusy(
                    f"The server is busy ({len(self._waiters)} writes queued); try again."
                )
            turn = threading.Event()
            self._waiters.append(turn)
        if not turn.wait(self.max_wait_s):
            with self._lock:
                # The slot may have been handed over between the timeout and this lock.
                if not turn.is_set():
                    self._waiters.remove(turn)
                    raise WritersBusy(
                        f"The server is busy (waited {self.max_wait_s:g} s to write); try again."
                    )
        # A released slot was handed to us directly: `_active` already counts us.
        self._local.depth = 1

    def release(self) -> None:
        depth: int = getattr(self._local, "depth", 0)
        if depth <= 0:
            raise RuntimeError("release() without acquire() in this thread")
        self._local.depth = depth - 1
        if depth > 1:
            return
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._active -= 1

    def __enter__(self) -> "WriterGate":
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
