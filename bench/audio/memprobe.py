"""`townhall serve` with a memory probe: SIGUSR1 appends one JSON line to MEMPROBE_OUT.

Exists to tell a leak from allocator growth in the soak (soak.py --probe). Each line has
the RSS; what glibc's malloc holds in use and free (mallinfo2), what Python's own
allocator holds (pymalloc), what SQLite holds; live Python objects by type (after a full
collection) and their change since the last probe; the dicts, lists, sets and deques that
grew most since then, with a sample item and who holds them. MEMPROBE_FRAMES > 0 adds
tracemalloc's top allocation sites by growth (slow: a 100-listener round took 90 s instead
of 25). MEMPROBE_TRIM=1 calls glibc's malloc_trim(0) after each probe and records the RSS
left. RSS and malloc figures are read before the probe builds its tables. Findings:
bench/results/soak_memory.md.

    MEMPROBE_OUT=/tmp/probe.jsonl .venv/bin/python bench/audio/memprobe.py serve --port 8000
    kill -USR1 <pid>
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import FrameType
from typing import Any

TOP_TYPES = 40
WATCHED = (
    "aiortc.rtcpeerconnection.RTCPeerConnection",
    "aiortc.rtcrtpsender.RTCRtpSender",
    "townhall.media.service.PeerSession",
    "townhall.media.fanout.FanoutListener",
)
"""Per-peer objects counted in every probe: one that outlives its round is a leak."""
TOP_SITES = 25


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (glibc 2.33+): totals over every malloc arena."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_figures(libc: ctypes.CDLL) -> dict[str, float]:
    """MB glibc's malloc holds in use, free inside its heaps, and mmapped (large blocks).

    In use growing is a leak (Python's or a library's); free growing is fragmentation.
    """
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return {
        "malloc_in_use_mb": round(info.uordblks / 2**20, 2),
        "malloc_free_mb": round(info.fordblks / 2**20, 2),
        "malloc_heap_mb": round(info.arena / 2**20, 2),
        "malloc_mmap_mb": round(info.hblkhd / 2**20, 2),
    }


def sqlite_figures() -> dict[str, float]:
    """MB SQLite's own allocator holds now and at most (page caches, statements, schemas)."""
    import sqlite3  # noqa: F401  (loads the library the server's connections use)

    lib = ctypes.CDLL(ctypes.util.find_library("sqlite3"))
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.restype = ctypes.c_int64
    return {
        "sqlite_mb": round(lib.sqlite3_memory_used() / 2**20, 2),
        "sqlite_highwater_mb": round(lib.sqlite3_memory_highwater(0) / 2**20, 2),
    }


PYMALLOC_FIGURES = {
    "# arenas allocated current": "pymalloc_arenas",
    "# bytes in allocated blocks": "pymalloc_in_use_mb",
    "# bytes in available blocks": "pymalloc_free_mb",
}


def pymalloc_figures() -> dict[str, float]:
    """Python's small-object allocator: arenas held, MB in use and free inside them.

    `sys._debugmallocstats` writes to the C stderr, so fd 2 goes to a file meanwhile.
    """
    with tempfile.TemporaryFile("w+") as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read()
    out: dict[str, float] = {}
    for line in text.splitlines():
        label, _, value = line.partition("=")
        key = PYMALLOC_FIGURES.get(label.strip())
        if key is not None and key not in out:
            number = int(value.strip().replace(",", ""))
            out[key] = number if key == "pymalloc_arenas" else round(number / 2**20, 2)
    return out


SIZED = (dict, list, set, collections.deque)
TOP_CONTAINERS = 15
KEPT_LEN = 32
"""Containers this long or longer are remembered until the next probe (a map keeping one
entry per peer gets there within a round): remembering all of them took 12 MB of malloc,
and its table doubling between probes showed as 5 MB of growth."""


def type_counts() -> tuple[collections.Counter[str], dict[int, tuple[int, Any]]]:
    """Live objects by type, and the length of the longer dicts, lists, sets and deques by id.

    A map that keeps one entry per peer grows without adding tracked objects when its
    values are atomic (str, int): only its length shows it.
    """
    # `townhall serve` freezes what it built at start-up (the app, its services and their
    # maps): gc.get_objects() skips frozen objects, so they go back to the collector. Full
    # collections walk them again from then on (longer pauses): a probe run's cost.
    gc.unfreeze()
    gc.collect()
    counts: collections.Counter[str] = collections.Counter()
    sizes: dict[int, tuple[int, Any]] = {}
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
        if isinstance(obj, SIZED) and len(obj) >= KEPT_LEN:
            sizes[id(obj)] = (len(obj), obj)
        # the collector does not track a dict of atomic values: find those by their holders
        for ref in gc.get_referents(obj):
            if isinstance(ref, SIZED) and not gc.is_tracked(ref) and len(ref) >= KEPT_LEN:
                sizes[id(ref)] = (len(ref), ref)
    return counts, sizes


def describe(container: Any) -> str:
    """The container's type, a sample item and who refers to it (type names only)."""
    sample = next(iter(container), None) if len(container) else None
    owners = [
        type(r).__qualname__
        for r in gc.get_referrers(container)
        if not isinstance(r, type(sys._getframe()))
    ][:3]
    return f"{type(container).__qualname__} sample={sample!r:.80} owners={owners}"


class Probe:
    """State between probes: the last object counts and tracemalloc snapshot."""

    def __init__(self, out: Path, trim: bool) -> None:
        self.out = out
        self.trim = trim
        self.number = 0
        self.counts: collections.Counter[str] = collections.Counter()
        self.sizes: dict[int, int] = {}
        self.snapshot: tracemalloc.Snapshot | None = None
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"))

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        t0 = time.monotonic()
        self.number += 1
        # before the probe's own tables are built: those are freed, but not all given back
        before = {"rss_mb": round(rss_mb(), 1), **malloc_figures(self.libc)}
        counts, sizes = type_counts()
        growth = counts.copy()
        growth.subtract(self.counts)
        self.counts = counts
        grown = sorted(
            ((n - self.sizes[k], n, obj) for k, (n, obj) in sizes.items() if k in self.sizes),
            key=lambda item: -item[0],
        )[:TOP_CONTAINERS]
        largest = sorted(sizes.values(), key=lambda item: -item[0])[:TOP_CONTAINERS]
        self.sizes = {k: n for k, (n, _) in sizes.items()}
        entry: dict[str, Any] = {
            "probe": self.number,
            **before,
            "objects": sum(counts.values()),
            "tasks": counts["_asyncio.Task"],
            "peers": {name.rsplit(".", 1)[1]: counts[name] for name in WATCHED},
            "pymalloc_blocks": sys.getallocatedblocks(),
            **pymalloc_figures(),
            **sqlite_figures(),
            "top_types": counts.most_common(TOP_TYPES),
            "type_growth": [(k, v) for k, v in growth.most_common(TOP_TYPES) if v > 0],
            "containers_grown": [(d, n, describe(obj)) for d, n, obj in grown if d > 0],
            "containers_largest": [(n, describe(obj)) for n, obj in largest],
        }
        del grown, largest, sizes
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            current = tracemalloc.get_traced_memory()[0]
            entry["traced_mb"] = round(current / 2**20, 2)
            if self.snapshot is not None:
                stats = snapshot.compare_to(self.snapshot, "traceback")
                entry["sites"] = [
                    {
                        "size_diff_kb": round(s.size_diff / 1024, 1),
                        "count_diff": s.count_diff,
                        "traceback": [f"{f.filename}:{f.lineno}" for f in s.traceback],
                    }
                    for s in stats[:TOP_SITES]
                ]
            self.snapshot = snapshot
        if self.trim:
            self.libc.malloc_trim(0)
            entry["rss_after_trim_mb"] = round(rss_mb(), 1)
        entry["probe_s"] = round(time.monotonic() - t0, 2)
        with self.out.open("a") as f:
            f.write(json.dumps(entry) + "\n")


def main() -> int:
    frames = int(os.environ.get("MEMPROBE_FRAMES", "0"))
    if frames > 0:
        tracemalloc.start(frames)
    probe = Probe(Path(os.environ["MEMPROBE_OUT"]), os.environ.get("MEMPROBE_TRIM") == "1")
    signal.signal(signal.SIGUSR1, probe)
    from townhall.cli import main as townhall_main

    return townhall_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
