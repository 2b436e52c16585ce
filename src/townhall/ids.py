"""Time-ordered 63-bit ids, so "newest first" is "largest id first" and ids double as cursors.

Layout (most significant first): 41 bits of milliseconds since EPOCH_MS, 10 bits of
node id, 12 bits of per-millisecond sequence, like X's Snowflake ids.
"""

import threading
import time

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_NODE = (1 << NODE_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class IdGenerator:
    """Hands out unique increasing ids; safe to share between threads."""

    def __init__(self, node_id: int = 0) -> None:
        if not 0 <= node_id <= MAX_NODE:
            raise ValueError(f"node_id must be 0..{MAX_NODE}, got {node_id}")
        self._node_id = node_id
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now_ms = int(time.time() * 1000) - EPOCH_MS
            if now_ms <= self._last_ms:
                # Same millisecond, or the clock stepped back: keep counting from the last one.
                now_ms = self._last_ms
                self._sequence += 1
                if self._sequence > MAX_SEQUENCE:
                    now_ms += 1
                    self._sequence = 0
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (
                (now_ms << (NODE_BITS + SEQUENCE_BITS))
                | (self._node_id << SEQUENCE_BITS)
                | (self._sequence)
            )


def id_for_time_ms(unix_ms: int, node_id: int = 0, sequence: int = 0) -> int:
    """The id a record made at `unix_ms` would get; used by demo data and benchmarks."""
    return (
        ((unix_ms - EPOCH_MS) << (NODE_BITS + SEQUENCE_BITS))
        | (node_id << SEQUENCE_BITS)
        | sequence
    )


MAX_ID = (1 << 63) - 1
"""Ids are signed 64-bit in both databases; a larger number cannot name anything."""


def parse_id_text(raw: str) -> int | None:
    """An id as clients send it (decimal text), or None when it cannot be one of ours."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None
