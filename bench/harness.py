"""Pieces the benchmarks share: the real server in a subprocess, CPU accounting, percentiles.

Everything here reads the machine as it is (``/proc``, ``os``) so that a benchmark measures
the server the way an operator would run it: ``townhall serve`` in its own process.
"""

import asyncio
import contextlib
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 15.0
HEALTH_POLL_INTERVAL_S = 0.2
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
VERSIONED_PACKAGES = ("fastapi", "starlette", "uvicorn", "websockets", "uvloop", "sqlalchemy")


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for a benchmark's own output."""
    print(message, file=sys.stderr, flush=True)


def summarize_ms(values: Sequence[float], unfinished: int = 0) -> dict[str, float | int | None]:
    """Count, p50, p90, p99, p99.9 and max of latencies in milliseconds.

    `unfinished` operations (no answer, never delivered) rank above every finished one, so
    that percentiles are not computed over survivors only; a percentile that falls among
    them is None.
    """
    ordered = sorted(values)
    total = len(ordered) + unfinished

    def rank(fraction: float) -> float | None:
        if total == 0:
            return float("nan")
        position = max(1, min(total, round(fraction * total + 0.5)))
        return ordered[position - 1] if position <= len(ordered) else None

    return {
        "count": len(ordered),
        "unfinished": unfinished,
        "p50_ms": rank(0.50),
        "p90_ms": rank(0.90),
        "p99_ms": rank(0.99),
        "p999_ms": rank(0.999),
        "max_ms": None if unfinished else (ordered[-1] if ordered else float("nan")),
    }


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process (all its threads) has used so far."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses: split after its closing one.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS_PER_S


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CpuMeter:
    """CPU used between (re)start and read(), as a share of one core (200% = two cores)."""

    def __init__(self, read_cpu_s: Callable[[], float]) -> None:
        self._read_cpu_s = read_cpu_s
        self._cpu_s = read_cpu_s()
        self._wall_s = time.monotonic()

    @classmethod
    def of_process(cls, pid: int) -> "CpuMeter":
        return cls(lambda: cpu_seconds(pid))

    @classmethod
    def of_machine(cls) -> "CpuMeter":
        return cls(machine_busy_seconds)

    def restart(self) -> None:
        self._cpu_s = self._read_cpu_s()
        self._wall_s = time.monotonic()

    def read(self) -> tuple[float, float]:
        """(cpu seconds, percent of one core) since the last (re)start."""
        cpu_s = self._read_cpu_s() - self._cpu_s
        wall_s = max(time.monotonic() - self._wall_s, 1e-9)
        return cpu_s, 100.0 * cpu_s / wall_s


@dataclass(frozen=True)
class Server:
    process: "subprocess.Popen[bytes]"
    base_url: str
    ws_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Exit)\b.*")


def exceptions_logged(server: Server) -> dict[str, int]:
    """How often each exception line (`sqlite3.OperationalError: ...`) is in the server log."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in server.log_path.read_text(errors="replace").splitlines():
            if _EXCEPTION_LINE.match(line):
                counts[line[:160]] += 1
    return dict(counts)


def gc_pauses_logged(server: Server) -> list[str]:
    """The server's own warnings about long garbage-collection pauses (townhall.gc_pauses)."""
    with contextlib.suppress(OSError):
        text = server.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if "garbage collection of generation" in line]
    return []


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited during start-up:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/api/v1/health", timeout=2.0).status_code == 200:
                return
        time.sleep(HEALTH_POLL_INTERVAL_S)
    raise RuntimeError(f"server not healthy after {SERVER_START_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def running_server(
    data_dir: Path, env_overrides: Mapping[str, str], fd_limit: int
) -> Iterator[Server]:
    """`townhall serve` (SQLite in data_dir) on a free port; stopped with SIGTERM on exit.

    The server inherits this process's niceness and gets at least fd_limit open files.
    """
    port = free_port()
    log_path = data_dir / "server.log"
    env = {**os.environ, **env_overrides}
    command = [
        sys.executable,
        "-m",
        "townhall",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--quiet",
    ]

    def _prepare_child() -> None:
        raise_fd_limit(fd_limit)

    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=_prepare_child
        )
    server = Server(process, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server)
        yield server
    except BaseException:
        log(f"server log (last lines):\n{server.log_tail()}")
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    for package in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


class KeepAliveClient:
    """A minimal HTTP/1.1 client for timed requests: a LIFO of idle keep-alive connections.

    httpx's pool does work proportional to its connections and queued requests on every
    request; with a few hundred in flight that made the benchmark client, not the server,
    the bottleneck (measured: POST p50 of seconds at 25% server CPU). Here a request costs
    one write and two reads.
    """

    IDLE_LIMIT_S = 3.0
    """Drop connections idle this long: uvicorn closes keep-alive connections after 5 s."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self._host = url.host
        self._port = url.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def _acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self._idle:
            reader, writer, idle_since = self._idle.pop()
            if now - idle_since < self.IDLE_LIMIT_S and not reader.at_eof():
                return reader, writer
            writer.close()
        self.opened += 1
        return await asyncio.open_connection(self._host, self._port)

    async def post(self, path: str, token: str, body: bytes = b"") -> tuple[int, bytes]:
        """POST with a bearer token; returns (status, body). Raises OSError or
        asyncio.IncompleteReadError when the connection fails."""
        reader, writer = await self._acquire()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, keep_alive = 0, True
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    keep_alive = False
            content = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            raise
        if keep_alive:
            self._idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return status, content

    def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat), to see other load."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_S


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _sched_ns(pid: int) -> dict[int, tuple[int, int]]:
    """Per thread: (ns on a CPU, ns runnable but waiting for a CPU), from schedstat."""
    times: dict[int, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            on_cpu, waiting, _ = (int(v) for v in (task / "schedstat").read_text().split())
            times[int(task.name)] = (on_cpu, waiting)
    return times


class SchedMeter:
    """How much a process's main thread ran, and waited for a CPU, between (re)start and read().

    On a shared machine this tells a slow server (busy on its CPU) from a starved one
    (runnable, but other processes hold the cores).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._start = _sched_ns(pid)
        self._wall_s = time.monotonic()

    def restart(self) -> None:
        self._start = _sched_ns(self.pid)
        self._wall_s = time.monotonic()

    def read(self) -> dict[str, float]:
        """Percent of wall time: main thread on CPU / waiting; all threads waiting (summed)."""
        now = _sched_ns(self.pid)
        wall_ns = max(time.monotonic() - self._wall_s, 1e-9) * 1e9
        main_run, main_wait = (
            now.get(self.pid, (0, 0))[i] - self._start.get(self.pid, (0, 0))[i] for i in (0, 1)
        )
        all_wait = sum(times[1] - self._start.get(tid, (0, 0))[1] for tid, times in now.items())
        return {
            "main_thread_on_cpu_pct": 100 * main_run / wall_ns,
            "main_thread_waiting_for_cpu_pct": 100 * main_wait / wall_ns,
            "all_threads_waiting_for_cpu_pct": 100 * all_wait / wall_ns,
        }
