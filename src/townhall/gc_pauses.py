"""Says in the log when Python's cyclic garbage collector stopped the server for long.

A full collection walks every tracked object the process holds; with thousands of sockets
open that took a third of a second here, and every request and frame in flight waited it
out. Nothing else in the logs would explain such a stall, so it is logged where it happens.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

log = logging.getLogger("townhall.gc")

SLOW_PAUSE_S = 0.05
"""A collection longer than this is logged as a warning: it shows in request latency."""


class PauseWatch:
    """Times each collection through `gc.callbacks`; install once per process."""

    def __init__(self, slow_pause_s: float = SLOW_PAUSE_S) -> None:
        self.slow_pause_s = slow_pause_s
        self.slowest_s = 0.0
        self.slow_pauses = 0
        self._started = 0.0

    def install(self) -> None:
        if self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause_s = time.perf_counter() - self._started
        self.slowest_s = max(self.slowest_s, pause_s)
        if pause_s >= self.slow_pause_s:
            self.slow_pauses += 1
            log.warning(
                "garbage collection of generation %d paused the server %.0f ms "
                "(%d objects tracked, %d collected)",
                info["generation"],
                pause_s * 1000,
                len(gc.get_objects(info["generation"])),
                info["collected"],
            )
