"""Latency summaries: exact percentiles for small lists, a mergeable histogram for big ones."""

import math
from collections.abc import Iterable, Sequence
from typing import Any

HISTOGRAM_FLOOR_MS = 0.01
HISTOGRAM_RATIO = 1.02
"""Buckets 2% wide: percentiles from a histogram are within 1% of the exact ones."""


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sequence."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(values: Iterable[float]) -> dict[str, Any]:
    """count, p50, p95, p99, max in milliseconds (None when there is no sample)."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
    }


class Histogram:
    """Log-bucketed milliseconds: what 600,000 HLS fetch times a run cost to keep and to merge."""

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        key = int(math.log(max(ms, HISTOGRAM_FLOOR_MS) / HISTOGRAM_FLOOR_MS, HISTOGRAM_RATIO))
        self.buckets[key] = self.buckets.get(key, 0) + 1
        self.count += 1
        self.max_ms = max(self.max_ms, ms)

    def merge(self, other: "Histogram") -> None:
        for key, n in other.buckets.items():
            self.buckets[key] = self.buckets.get(key, 0) + n
        self.count += other.count
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, p: float) -> float | None:
        if not self.count:
            return None
        rank = max(1, math.ceil(p / 100 * self.count))
        seen = 0
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if seen >= rank:
                middle: float = HISTOGRAM_FLOOR_MS * HISTOGRAM_RATIO ** (key + 0.5)
                return min(middle, self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "p50": self.percentile(50),
            "p95": self.percentile(95),
            "p99": self.percentile(99),
            "max": self.max_ms if self.count else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {"buckets": list(self.buckets.items()), "count": self.count, "max": self.max_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Histogram":
        histogram = cls()
        histogram.buckets = {int(key): int(n) for key, n in data["buckets"]}
        histogram.count = int(data["count"])
        histogram.max_ms = float(data["max"])
        return histogram
