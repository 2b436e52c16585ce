"""Server CPU from /proc: utime + stime of each given process, as % of one core; and the
machine's UDP receive-buffer drops, which look like audio loss but happen in the client."""

import os
import time
from pathlib import Path
from typing import Any

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of all the process's threads, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


class CpuSampler:
    """Samples the processes every call to sample(); keeps the busiest second of each."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._first: dict[int, tuple[float, float]] = {}
        self._last: dict[int, tuple[float, float]] = {}
        self.latest_pct: dict[int, float] = {}
        self.peak_pct: dict[int, float] = {}

    def start(self) -> None:
        """(Re)starts the measurement: the mean and the busiest second count from now."""
        self.peak_pct.clear()
        now = time.monotonic()
        for pid in self.pids:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self._first[pid] = self._last[pid] = (now, seconds)

    def sample(self) -> None:
        now = time.monotonic()
        for pid in self.pids:
            seconds = cpu_seconds(pid)
            if seconds is None or pid not in self._last:
                continue
            then, before = self._last[pid]
            if now - then > 0.2:
                pct = 100.0 * (seconds - before) / (now - then)
                self.latest_pct[pid] = pct
                self.peak_pct[pid] = max(self.peak_pct.get(pid, 0.0), pct)
                self._last[pid] = (now, seconds)

    def result(self) -> dict[str, Any]:
        self.sample()
        out: dict[str, Any] = {}
        for pid in self.pids:
            if pid not in self._first or pid not in self._last:
                out[str(pid)] = {"mean_pct": None, "peak_pct": None, "note": "not readable"}
                continue
            (t0, s0), (t1, s1) = self._first[pid], self._last[pid]
            out[str(pid)] = {
                "mean_pct": 100.0 * (s1 - s0) / max(t1 - t0, 1e-9),
                "peak_pct": self.peak_pct.get(pid),
            }
        return out


def udp_receive_drops() -> int | None:
    """Datagrams the kernel dropped because a socket's receive buffer was full (whole machine)."""
    try:
        with open("/proc/net/snmp") as snmp:
            rows = [line.split() for line in snmp if line.startswith("Udp:")]
        return int(dict(zip(rows[0][1:], rows[1][1:], strict=True))["RcvbufErrors"])
    except (OSError, IndexError, KeyError, ValueError):
        return None
