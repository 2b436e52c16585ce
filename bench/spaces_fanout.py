"""Spaces fan-out benchmark: reactions reaching thousands of WebSocket listeners, and a join storm.

    .venv/bin/python bench/spaces_fanout.py --listeners 2000 --reactions-per-s 100

```
 this process (orchestrator)                                      server (subprocess)
   signup, create the Space, POST /join  ──────── HTTP ────────>  townhall serve
   reactions, open loop at --reactions-per-s ──── HTTP ────────>    │ batches every 100 ms
   storm: POST /join at --join-rate ───────────── HTTP ────────>    │ fans out every event
                                                                    │
 listener worker (subprocess): --listeners sockets  <──── WS ───────┤
 storm worker (subprocess): one socket per storm joiner <── WS ─────┘
```

1. Starts the real server (SQLite, in-process bus) with cheap argon2 settings, signs up the
   host, the listeners and the storm joiners through the API, opens the Space and joins every
   listener (before any socket is open, so set-up does not fan out to thousands).
2. The listener worker opens one event socket per listener and records, for every distinct
   frame text, when each socket received it (a frame is serialized once per Space event, so
   every listener receives the same text).
3. Reactors (by default every listener) post reactions in turn, each cycling through ten
   emoji, so a (user, emoji) pair comes back only every 10 x reactors / rate seconds (200 s
   by default: longer than a run, so every reaction is unambiguous). Each reaction
   is matched in order to the batched frames that carry it: latency is receipt at a listener
   minus the moment just before the POST was sent, at every listener.
4. Join storm: new users POST /join at --join-rate, open loop, then open their socket (in the
   storm worker). Join latency is the POST; the existing listeners' receipt of each
   `participant.joined` gives its fan-out latency.
5. Server CPU is utime+stime from /proc over each measured window, as % of one core. The
   clients run on the same two cores: their CPU is reported too.
"""

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    # Run as `python bench/spaces_fanout.py`: make the repository root importable, as `-m` does.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.harness import (
    CpuMeter,
    KeepAliveClient,
    SchedMeter,
    cpu_seconds,
    exceptions_logged,
    gc_pauses_logged,
    log,
    machine_info,
    raise_fd_limit,
    rss_mib,
    running_server,
    summarize_ms,
)
from townhall.loadtest import ws_light

SCRIPT = Path(__file__).resolve()
BENCH_DIR = SCRIPT.parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "spaces_fanout.md"
EMOJI = ("💜", "😂", "😲", "😢", "💯", "👏", "✋", "👍", "👎", "🔥")
PASSWORD = "bench-password"
NPROC = len(os.sched_getaffinity(0))
TARGET_REACTION_P99_MS = 250.0
TARGET_SERVER_CPU_PCT = 100.0
TARGET_JOIN_P99_MS = 500.0
SERVER_ENV = {
    # argon2 at its defaults costs ~0.1 s of CPU per signup; the benchmark is not about it.
    "TOWNHALL_PASSWORD_TIME_COST": "1",
    "TOWNHALL_PASSWORD_MEMORY_KIB": "1024",
    # Every simulated user comes from 127.0.0.1: per-address limits would throttle the run.
    "TOWNHALL_RATE_SIGNUP_PER_IP": "0",
    "TOWNHALL_RATE_LOGIN_PER_IP": "0",
    "TOWNHALL_RATE_POST_PER_IP": "0",
    "TOWNHALL_RATE_FOLLOW_PER_IP": "0",
    "TOWNHALL_RATE_JOIN_PER_IP": "0",
    "TOWNHALL_RATE_SPEAK_REQUEST_PER_IP": "0",
    "TOWNHALL_RATE_REACTION_PER_IP": "0",
    "TOWNHALL_RATE_WEBRTC_OFFER_PER_IP": "0",
}
HTTP_TIMEOUT_S = 60.0
SETUP_ATTEMPTS = 4
WS_OPEN_TIMEOUT_S = 60.0
WS_MAX_FRAME_BYTES = 1 << 20
PROGRESS_EVERY_S = 2.0
WORKER_STATS_EVERY_S = 1.0
WORKER_LINE_LIMIT_BYTES = 1 << 20
QUIET_SERVER_CPU_PCT = 10.0
"""Between phases, wait until the server uses less than this (it may still have a backlog)."""
QUIET_TIMEOUT_S = 180.0
QUIET_MACHINE_OTHERS_PCT = 30.0
QUIET_MACHINE_SAMPLE_S = 3.0
STARVED_PCT = 10.0
"""Past this share of time waiting for a CPU, the server's own CPU figure says little."""
ANSWER_GRACE_S = 30.0
"""How long a phase waits for its last requests before counting them as unanswered."""
DRAIN_S = 3.0
"""Wait after the last request of a phase so its frames still count."""
CLOSE_ALL_TIMEOUT_S = 10.0
PROFILE_RATE_HZ = 100


# ---------------------------------------------------------------- listener workers


class ListenerPool:
    """Event sockets of many users in one process, recording when each frame text arrived."""

    def __init__(
        self, ws_url: str, space_id: str, compression: str | None, client: str = "light"
    ) -> None:
        self._url = f"{ws_url}/api/v1/spaces/{space_id}/events?token="
        self._compression = compression
        self._client = client
        self._light: list[ws_light.LightSocket] = []
        self.frames: dict[str | bytes, list[float]] = {}
        self.ready_ms: list[float] = []
        self.connect_errors: Counter[str] = Counter()
        self.closed_by_server: Counter[str] = Counter()
        self.extensions: Counter[str] = Counter()
        """Sec-WebSocket-Extensions the server agreed to: the client's offer is not the answer."""
        self.received = 0
        self.open = 0
        self.stopping = False
        self._sockets: list[ClientConnection] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect(self, token: str, started: float) -> bool:
        """Open a socket and wait for its `ready` frame; started is when the user asked."""
        if self._client == "light":
            return await self._connect_light(token, started)
        try:
            socket = await connect(
                self._url + token,
                compression="deflate" if self._compression == "deflate" else None,
                ping_interval=None,
                open_timeout=WS_OPEN_TIMEOUT_S,
                close_timeout=1.0,
                max_size=WS_MAX_FRAME_BYTES,
            )
            first = await asyncio.wait_for(socket.recv(), WS_OPEN_TIMEOUT_S)
            kind = json.loads(first).get("type")
            if kind != "ready":
                await socket.close()
                self.connect_errors[f"first frame {kind}"] += 1
                return False
        except Exception as exc:
            self.connect_errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            return False
        self.ready_ms.append((time.monotonic() - started) * 1000)
        if socket.response is not None:
            self.extensions[socket.response.headers.get("Sec-WebSocket-Extensions", "none")] += 1
        self.open += 1
        self._sockets.append(socket)
        task = asyncio.create_task(self._receive(socket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _connect_light(self, token: str, started: float) -> bool:
        loop = asyncio.get_running_loop()
        first: asyncio.Future[bytes] = loop.create_future()
        frames = self.frames
        monotonic = time.monotonic

        def on_message(payload: bytes) -> None:
            if not first.done():
                first.set_result(payload)
                return
            now = monotonic()
            times = frames.get(payload)
            if times is None:
                times = frames[payload] = []
            times.append(now)
            self.received += 1

        try:
            socket = await asyncio.wait_for(
                ws_light.connect(self._url + token, on_message), WS_OPEN_TIMEOUT_S
            )
            kind = json.loads(await asyncio.wait_for(first, WS_OPEN_TIMEOUT_S)).get("type")
            if kind != "ready":
                await socket.close()
                self.connect_errors[f"first frame {kind}"] += 1
                return False
        except Exception as exc:
            self.connect_errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            return False
        self.ready_ms.append((time.monotonic() - started) * 1000)
        self.extensions["none (light client offers no extension)"] += 1
        self.open += 1
        self._light.append(socket)
        socket.closed.add_done_callback(lambda _done: self._light_closed(socket))
        return True

    def _light_closed(self, socket: ws_light.LightSocket) -> None:
        self.open -= 1
        if not self.stopping:
            self.closed_by_server[f"{socket.close_code} {socket.close_reason}".strip()] += 1

    async def _receive(self, socket: ClientConnection) -> None:
        frames = self.frames
        monotonic = time.monotonic
        try:
            async for message in socket:
                now = monotonic()
                text = message if isinstance(message, str) else message.decode()
                times = frames.get(text)
                if times is None:
                    times = frames[text] = []
                times.append(now)
                self.received += 1
        except ConnectionClosed:
            pass
        finally:
            self.open -= 1
            if not self.stopping:
                code = socket.close_code
                self.closed_by_server[f"{code} {socket.close_reason or ''}".strip()] += 1

    async def close_all(self) -> None:
        self.stopping = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_ALL_TIMEOUT_S):
                await asyncio.gather(
                    *(socket.close() for socket in self._sockets),
                    *(socket.close() for socket in self._light),
                    return_exceptions=True,
                )
        for task in list(self._tasks):
            task.cancel()

    def result(self) -> dict[str, Any]:
        return {
            "frames": [
                {"text": text if isinstance(text, str) else text.decode(), "times": times}
                for text, times in self.frames.items()
            ],
            "ready_ms": self.ready_ms,
            "connect_errors": dict(self.connect_errors),
            "closed_by_server": dict(self.closed_by_server),
            "negotiated_extensions": dict(self.extensions),
            "connected": len(self.ready_ms),
            "cpu_s": cpu_seconds(os.getpid()),
        }


def _emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


async def _connect_all(pool: ListenerPool, tokens: Sequence[str], concurrency: int) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)
    failed = 0

    async def opener() -> None:
        nonlocal failed
        while not queue.empty():
            token = queue.get_nowait()
            if not await pool.connect(token, time.monotonic()):
                failed += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            _emit("progress", connected=len(pool.ready_ms), failed=failed, total=len(tokens))

    reporter = asyncio.create_task(progress())
    await asyncio.gather(*(opener() for _ in range(concurrency)))
    reporter.cancel()
    _emit("connected", connected=len(pool.ready_ms), failed=failed, total=len(tokens))


async def _worker(spec: dict[str, Any]) -> None:
    """Listener worker: commands on stdin (connect-all, connect I, stop), JSON lines out."""
    tokens: list[str] = spec["tokens"]
    pool = ListenerPool(spec["ws_url"], spec["space_id"], spec["compression"], spec["client"])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    background: set[asyncio.Task[Any]] = set()

    def spawn(coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        background.add(task)
        task.add_done_callback(background.discard)

    async def stats() -> None:
        while True:
            await asyncio.sleep(WORKER_STATS_EVERY_S)
            _emit("stats", received=pool.received, open=pool.open, connected=len(pool.ready_ms))

    spawn(stats())
    while line := (await reader.readline()).decode().split():
        if line[0] == "connect-all":
            spawn(_connect_all(pool, tokens, spec["connect_concurrency"]))
        elif line[0] == "connect":
            spawn(pool.connect(tokens[int(line[1])], time.monotonic()))
        elif line[0] == "stop":
            break
    await asyncio.to_thread(Path(spec["result_path"]).write_text, json.dumps(pool.result()))
    _emit("done")
    await pool.close_all()
    for task in list(background):
        task.cancel()


class Worker:
    """The orchestrator's handle on a listener worker subprocess."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, result_path: Path) -> None:
        self.name = name
        self.process = process
        self.result_path = result_path
        self.latest: dict[str, Any] = {"received": 0, "open": 0, "connected": 0}
        self._events: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, name: str, tmp_dir: Path, ws_url: str, space_id: str, tokens: list[str], args: Any
    ) -> "Worker":
        result_path = tmp_dir / f"{name}-result.json"
        spec_path = tmp_dir / f"{name}-spec.json"
        spec = {
            "ws_url": ws_url,
            "space_id": space_id,
            "tokens": tokens,
            "compression": args.compression,
            "client": args.ws_client,
            "connect_concurrency": args.connect_concurrency,
            "result_path": str(result_path),
        }
        spec_path.write_text(json.dumps(spec))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "--worker",
            str(spec_path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=WORKER_LINE_LIMIT_BYTES,
        )
        return cls(name, process, result_path)

    def _future(self, event: str) -> asyncio.Future[dict[str, Any]]:
        if event not in self._events:
            self._events[event] = asyncio.get_running_loop().create_future()
        return self._events[event]

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while raw := await self.process.stdout.readline():
            message: dict[str, Any] = json.loads(raw)
            event = message.pop("event")
            if event == "stats":
                self.latest = message
            elif event == "progress":
                log(
                    f"  {self.name}: {message['connected']}/{message['total']} sockets ready"
                    f" ({message['failed']} failed)"
                )
            else:
                future = self._future(event)
                if not future.done():
                    future.set_result(message)
        for future in self._events.values():
            if not future.done():
                future.set_exception(RuntimeError(f"{self.name} exited early"))

    async def wait_for(self, event: str) -> dict[str, Any]:
        return await self._future(event)

    async def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def finish(self) -> dict[str, Any]:
        await self.command("stop")
        await self.wait_for("done")
        result: dict[str, Any] = json.loads(self.result_path.read_text())
        await self.process.wait()
        return result


# ---------------------------------------------------------------- set-up over HTTP


@dataclass(frozen=True)
class Account:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _bounded(
    count: int, concurrency: int, label: str, job: Callable[[int], Any]
) -> list[Any]:
    """Run job(0..count-1) with at most `concurrency` at once, logging progress."""
    results: list[Any] = [None] * count
    next_index = 0
    done = 0
    last_log = time.monotonic()

    async def runner() -> None:
        nonlocal next_index, done, last_log
        while next_index < count:
            index = next_index
            next_index += 1
            results[index] = await job(index)
            done += 1
            if time.monotonic() - last_log >= PROGRESS_EVERY_S:
                last_log = time.monotonic()
                log(f"  {label}: {done}/{count}")

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    log(f"  {label}: {done}/{count} done")
    return results


def _check(response: httpx.Response, expected: int) -> dict[str, Any]:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )
    if not response.content:
        return {}
    body: dict[str, Any] = response.json()
    return body


async def _signup_all(http: httpx.AsyncClient, count: int, concurrency: int) -> list[Account]:
    async def signup(index: int) -> Account:
        body = {"username": f"fan{index:06d}", "password": PASSWORD}
        data = _check(await http.post("/api/v1/auth/signup", json=body), 201)
        return Account(str(data["user"]["id"]), str(data["token"]))

    accounts: list[Account] = await _bounded(count, concurrency, "users created", signup)
    return accounts


async def _open_space(http: httpx.AsyncClient, host: Account, title: str) -> str:
    """A live Space (created live, the host joined); returns its id."""
    response = await http.post("/api/v1/spaces", headers=host.headers, json={"title": title})
    return str(_check(response, 201)["id"])


async def _join_all(
    http: httpx.AsyncClient, space_id: str, accounts: Sequence[Account], concurrency: int
) -> int:
    """Join every account; returns how many joins were retried after a 5xx."""
    retried = 0

    async def join(index: int) -> None:
        nonlocal retried
        path = f"/api/v1/spaces/{space_id}/join"
        for _ in range(SETUP_ATTEMPTS):
            response = await http.post(path, headers=accounts[index].headers)
            if response.status_code < 500:
                break
            # Seen under CPU starvation: SQLite's "database is locked" after its busy timeout.
            retried += 1
            log(f"  join answered {response.status_code}: {response.text[:100]}; retrying")
        _check(response, 200)

    await _bounded(len(accounts), concurrency, "listeners joined", join)
    return retried


# ---------------------------------------------------------------- measurement


@dataclass
class Request:
    """One timed request: sent just before the POST, done when the response arrived."""

    sent: float
    user_id: str = ""
    emoji: str = ""
    done: float = 0.0
    status: int = 0
    """HTTP status, 0 while in flight, -1 on a transport error."""
    delivered: bool = False


@dataclass
class Window:
    """A measured phase: its requests, its time span and what the processes spent."""

    requests: list[Request] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    server_cpu_s: float = 0.0
    server_cpu_pct: float = 0.0
    client_cpu_pct: dict[str, float] = field(default_factory=dict)
    machine_cpu_pct: float = 0.0
    other_cpu_pct: float = 0.0
    """Machine CPU used by processes other than the server and this benchmark's clients."""
    load_average: float = 0.0
    server_sched: dict[str, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0


async def _timed_post(
    client: KeepAliveClient, path: str, token: str, body: bytes, record: Request, window: Window
) -> None:
    try:
        record.status, _ = await client.post(path, token, body)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        record.status = -1
        window.errors[type(exc).__name__] += 1
    record.done = time.monotonic()


class Meters:
    """Server and client CPU over a window, and a progress line every few seconds."""

    def __init__(self, server_pid: int, workers: Sequence[Worker]) -> None:
        self.server = CpuMeter.of_process(server_pid)
        self.sched = SchedMeter(server_pid)
        self.machine = CpuMeter.of_machine()
        self.clients = {"orchestrator": CpuMeter.of_process(os.getpid())} | {
            worker.name: CpuMeter.of_process(worker.process.pid) for worker in workers
        }
        self._interval_server = CpuMeter.of_process(server_pid)
        self._interval_machine = CpuMeter.of_machine()
        self._interval_sched = SchedMeter(server_pid)

    def restart(self) -> None:
        meters = (self.server, self.machine, self._interval_server, self._interval_machine)
        for meter in (*meters, *self.clients.values()):
            meter.restart()
        self.sched.restart()
        self._interval_sched.restart()

    def progress(self, label: str, elapsed_s: float, workers: Sequence[Worker]) -> None:
        _, server_pct = self._interval_server.read()
        _, machine_pct = self._interval_machine.read()
        starved_pct = self._interval_sched.read()["main_thread_waiting_for_cpu_pct"]
        self._interval_server.restart()
        self._interval_machine.restart()
        self._interval_sched.restart()
        sockets = ", ".join(
            f"{w.name} {w.latest['open']} open {w.latest['received']} frames" for w in workers
        )
        log(
            f"  {elapsed_s:5.1f} s  {label}  server CPU {server_pct:3.0f}%, loop waiting for a "
            f"CPU {starved_pct:3.0f}% (machine {machine_pct:3.0f}% of {100 * NPROC}%)  {sockets}"
        )

    async def wait_for_quiet_machine(self, timeout_s: float) -> None:
        """On a shared machine, wait (up to timeout_s) until other processes leave the cores."""
        if timeout_s <= 0:
            return
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            self.restart()
            await asyncio.sleep(QUIET_MACHINE_SAMPLE_S)
            ours = self.server.read()[1] + sum(m.read()[1] for m in self.clients.values())
            others = max(0.0, self.machine.read()[1] - ours)
            if others < QUIET_MACHINE_OTHERS_PCT:
                log(f"  other processes use {others:.0f}% of a core: going on")
                return
            log(f"  other processes use {others:.0f}% of a core: waiting for a quieter machine")
        log(f"  machine still busy after {timeout_s:g} s: going on anyway")

    def close(self, window: Window) -> None:
        window.server_cpu_s, window.server_cpu_pct = self.server.read()
        window.server_sched = self.sched.read()
        window.client_cpu_pct = {name: m.read()[1] for name, m in self.clients.items()}
        window.machine_cpu_pct = self.machine.read()[1]
        window.other_cpu_pct = max(
            0.0,
            window.machine_cpu_pct - window.server_cpu_pct - sum(window.client_cpu_pct.values()),
        )
        window.load_average = os.getloadavg()[0]


async def _reactions(
    client: KeepAliveClient,
    space_id: str,
    reactors: Sequence[Account],
    rate_per_s: float,
    warmup_s: float,
    duration_s: float,
    meters: Meters,
    workers: Sequence[Worker],
    profile: Callable[[], Awaitable[asyncio.subprocess.Process]] | None = None,
) -> Window:
    """Open-loop reactions: round robin over reactors, each cycling through EMOJI."""
    window = Window()
    path = f"/api/v1/spaces/{space_id}/reactions"
    interval_s = 1.0 / rate_per_s
    tasks: set[asyncio.Task[None]] = set()
    begin = time.monotonic()
    window.start = begin + warmup_s
    window.end = window.start + duration_s
    measuring = False
    profiler: asyncio.subprocess.Process | None = None
    next_progress = begin + PROGRESS_EVERY_S
    sent = 0
    while True:
        due = begin + sent * interval_s
        if due >= window.end:
            break
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        now = time.monotonic()
        if not measuring and now >= window.start:
            measuring = True
            meters.restart()
            profiler = await profile() if profile is not None else None
        if now >= next_progress:
            next_progress += PROGRESS_EVERY_S
            statuses = Counter(r.status for r in window.requests)
            meters.progress(
                f"{'measuring' if measuring else 'warm-up  '} sent {sent} "
                f"(202: {statuses[202]}, 429: {statuses[429]})",
                now - begin,
                workers,
            )
        reactor = reactors[sent % len(reactors)]
        emoji = EMOJI[(sent // len(reactors)) % len(EMOJI)]
        record = Request(time.monotonic(), reactor.user_id, emoji)
        window.requests.append(record)
        body = json.dumps({"emoji": emoji}).encode()
        task = asyncio.create_task(_timed_post(client, path, reactor.token, body, record, window))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    meters.close(window)
    if profiler is not None:
        await profiler.wait()
    window.unanswered = await _settle(tasks)
    await asyncio.sleep(DRAIN_S)
    return window


async def _settle(tasks: set[asyncio.Task[None]]) -> int:
    """Wait for requests still in flight, at most ANSWER_GRACE_S; returns how many were not."""
    if not tasks:
        return 0
    _, pending = await asyncio.wait(tasks, timeout=ANSWER_GRACE_S)
    for task in pending:
        task.cancel()
    if pending:
        log(f"  {len(pending)} requests still unanswered after {ANSWER_GRACE_S:g} s: given up")
        await asyncio.wait(pending)
    return len(pending)


async def _join_storm(
    client: KeepAliveClient,
    space_id: str,
    joiners: Sequence[Account],
    rate_per_s: float,
    storm_worker: Worker,
    meters: Meters,
    workers: Sequence[Worker],
) -> Window:
    """Open-loop joins; each joiner opens its socket (in the storm worker) once joined."""
    window = Window()
    path = f"/api/v1/spaces/{space_id}/join"
    tasks: set[asyncio.Task[None]] = set()

    async def join(index: int, record: Request) -> None:
        await _timed_post(client, path, joiners[index].token, b"", record, window)
        if record.status == 200:
            await storm_worker.command(f"connect {index}")

    meters.restart()
    window.start = time.monotonic()
    next_progress = window.start + PROGRESS_EVERY_S
    for index in range(len(joiners)):
        due = window.start + index / rate_per_s
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        now = time.monotonic()
        if now >= next_progress:
            next_progress += PROGRESS_EVERY_S
            done = [r for r in window.requests if r.status]
            meters.progress(f"joins sent {index} answered {len(done)}", now - window.start, workers)
        record = Request(time.monotonic(), joiners[index].user_id)
        window.requests.append(record)
        task = asyncio.create_task(join(index, record))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    window.unanswered = await _settle(tasks)
    window.end = time.monotonic()
    meters.close(window)
    await asyncio.sleep(DRAIN_S)
    return window


# ---------------------------------------------------------------- analysis


@dataclass
class ParsedFrame:
    kind: str
    data: dict[str, Any]
    times: list[float]


def _merge_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One listener result from several worker processes (their clocks are the same:
    time.monotonic is CLOCK_MONOTONIC, system-wide)."""
    merged: dict[str, Any] = {
        "frames": [frame for result in results for frame in result["frames"]],
        "ready_ms": [ms for result in results for ms in result["ready_ms"]],
        "connected": sum(result["connected"] for result in results),
        "cpu_s": sum(result["cpu_s"] for result in results),
    }
    for key in ("connect_errors", "closed_by_server", "negotiated_extensions"):
        total: Counter[str] = Counter()
        for result in results:
            total.update(result.get(key, {}))
        merged[key] = dict(total)
    return merged


def _parse_frames(*results: dict[str, Any]) -> list[ParsedFrame]:
    parsed: dict[str, ParsedFrame] = {}
    for result in results:
        for frame in result["frames"]:
            text: str = frame["text"]
            if text in parsed:
                parsed[text].times.extend(frame["times"])
                continue
            message = json.loads(text)
            parsed[text] = ParsedFrame(message["type"], message.get("data") or {}, frame["times"])
    frames = [frame for frame in parsed.values() if frame.times]
    frames.sort(key=lambda frame: min(frame.times))
    return frames


def _reaction_report(
    window: Window, frames: Sequence[ParsedFrame], listeners: int
) -> dict[str, Any]:
    """Match reactions to the frames that carried them, in send order per (user, emoji)."""
    pending: dict[tuple[str, str], deque[Request]] = {}
    for record in window.requests:
        pending.setdefault((record.user_id, record.emoji), deque()).append(record)
    latencies: list[float] = []
    first_ms: list[float] = []
    spread_ms: list[float] = []
    unmatched = 0
    dropped = 0
    missing_deliveries = 0
    expected_deliveries = 0
    frames_in_window = 0
    received_in_window = 0
    never_arrived = 0
    """Deliveries of measured reactions that no listener socket got by the end."""
    items_per_frame: list[int] = []
    for frame in frames:
        if frame.kind == "reaction":
            items = [frame.data]
        elif frame.kind == "reactions":
            items = frame.data["items"]
            dropped += int(frame.data["dropped"])
        else:
            continue
        first = min(frame.times)
        if window.start <= first < window.end:
            received_in_window += len(frame.times)
        in_window = False
        for item in items:
            queue = pending.get((item["user_id"], item["emoji"]))
            while queue and queue[0].status not in (0, 202):
                queue.popleft()  # rejected (429) or failed: never batched
            if not queue or queue[0].sent > first:
                unmatched += 1
                continue
            record = queue.popleft()
            record.delivered = True
            if window.start <= record.sent < window.end:
                in_window = True
                sent = record.sent
                latencies.extend((t - sent) * 1000 for t in frame.times)
                first_ms.append((first - sent) * 1000)
                never_arrived += max(0, listeners - len(frame.times))
        if in_window:
            frames_in_window += 1
            items_per_frame.append(len(items))
            spread_ms.append((max(frame.times) - first) * 1000)
            expected_deliveries += listeners
            missing_deliveries += max(0, listeners - len(frame.times))
    measured = [r for r in window.requests if window.start <= r.sent < window.end]
    statuses = Counter(r.status for r in measured)
    lost = sum(1 for r in measured if r.status == 202 and not r.delivered)
    # Unanswered POSTs may or may not have reached the server: undelivered ones count too.
    undelivered = sum(1 for r in measured if r.status in (0, 202) and not r.delivered)
    never_arrived += undelivered * listeners
    post_ms = [(r.done - r.sent) * 1000 for r in measured if r.status > 0]
    unanswered = sum(1 for r in measured if r.status <= 0)
    return {
        "reactions_sent": len(measured),
        "achieved_rate_per_s": len(measured) / max(window.end - window.start, 1e-9),
        "statuses": _status_counts(statuses),
        "transport_errors": dict(window.errors),
        "accepted_but_never_delivered": lost,
        "frame_items_without_a_matching_post": unmatched,
        "dropped_by_batcher": dropped,
        "frames_measured": frames_in_window,
        "mean_reactions_per_frame": sum(items_per_frame) / max(len(items_per_frame), 1),
        "deliveries_expected": expected_deliveries,
        "deliveries_missing": missing_deliveries,
        "deliveries_received_during_window": received_in_window,
        "server_cpu_us_per_delivery": 1e6 * window.server_cpu_s / max(received_in_window, 1),
        "latency": summarize_ms(latencies, never_arrived),
        "latency_to_first_listener": summarize_ms(first_ms, undelivered),
        "fanout_spread_first_to_last_listener": summarize_ms(spread_ms),
        "post_response": summarize_ms(post_ms, unanswered),
        **_window_cpu(window),
    }


async def _wait_until_quiet(pid: int) -> None:
    """Let the server finish the previous phase's backlog, so phases do not overlap."""
    started = time.monotonic()
    meter = CpuMeter.of_process(pid)
    while time.monotonic() - started < QUIET_TIMEOUT_S:
        await asyncio.sleep(1.0)
        _, pct = meter.read()
        meter.restart()
        if pct < QUIET_SERVER_CPU_PCT:
            log(f"  server quiet after {time.monotonic() - started:.0f} s")
            return
        log(f"  waiting for the server to finish its backlog (CPU {pct:.0f}%)")
    log(f"  server still busy after {QUIET_TIMEOUT_S:g} s; going on")


async def _start_profiler(pid: int, duration_s: float, output: Path) -> asyncio.subprocess.Process:
    """py-spy (not a project dependency: `pip install py-spy`) on the server, raw stacks.

    --gil samples only the thread holding the GIL: one Python process runs one thread at a
    time, and which one is the question (a thread waiting for the GIL would look busy).
    """
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    log(f"  profiling the server for {duration_s:g} s into {output}")
    return await asyncio.create_subprocess_exec(
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(math.ceil(duration_s)),
        "--rate",
        str(PROFILE_RATE_HZ),
        "--nonblocking",
        "--gil",
        "--format",
        "raw",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def _status_counts(statuses: Counter[int]) -> dict[str, int]:
    names = {0: "no answer in time", -1: "transport error"}
    return {names.get(code, str(code)): count for code, count in sorted(statuses.items())}


def _window_cpu(window: Window) -> dict[str, Any]:
    return {
        "window_s": window.end - window.start,
        "server_cpu_s": window.server_cpu_s,
        "server_cpu_pct_of_one_core": window.server_cpu_pct,
        "client_cpu_pct_of_one_core": window.client_cpu_pct,
        "machine_cpu_pct_of_one_core": window.machine_cpu_pct,
        "other_processes_cpu_pct_of_one_core": window.other_cpu_pct,
        "load_average_1min_at_end": window.load_average,
        "server_scheduling": window.server_sched,
    }


def _slowest_by_second(window: Window) -> list[int]:
    """The slowest answer among the requests sent in each second: stalls show as runs."""
    slowest: dict[int, float] = {}
    for r in window.requests:
        if r.status > 0:
            second = int(r.sent - window.start)
            slowest[second] = max(slowest.get(second, 0.0), (r.done - r.sent) * 1000)
    return [round(slowest.get(second, -1)) for second in range(max(slowest, default=-1) + 1)]


def _storm_report(
    window: Window, frames: Sequence[ParsedFrame], storm_result: dict[str, Any]
) -> dict[str, Any]:
    sent_at = {r.user_id: r.sent for r in window.requests}
    fanout: list[float] = []
    for frame in frames:
        if frame.kind != "participant.joined":
            continue
        sent = sent_at.get(str(frame.data.get("user_id")))
        if sent is not None:
            fanout.extend((t - sent) * 1000 for t in frame.times)
    statuses = Counter(r.status for r in window.requests)
    join_ms = [(r.done - r.sent) * 1000 for r in window.requests if r.status > 0]
    unanswered = sum(1 for r in window.requests if r.status <= 0)
    sending_s = window.requests[-1].sent - window.start if window.requests else 0.0
    return {
        "joins": len(window.requests),
        "achieved_rate_per_s": (len(window.requests) - 1) / max(sending_s, 1e-9),
        "statuses": _status_counts(statuses),
        "transport_errors": dict(window.errors),
        "join_post": summarize_ms(join_ms, unanswered),
        "join_post_slowest_by_second": _slowest_by_second(window),
        "socket_ready_after_join": summarize_ms(storm_result["ready_ms"]),
        "socket_connect_errors": storm_result["connect_errors"],
        "joined_event_fanout_to_listeners": summarize_ms(fanout),
        **_window_cpu(window),
    }


# ---------------------------------------------------------------- the run


async def _run(args: argparse.Namespace, tmp_dir: Path) -> dict[str, Any]:
    fd_limit = raise_fd_limit(2 * (args.listeners + args.join_storm) + 1024)
    report: dict[str, Any] = {}
    with running_server(tmp_dir, SERVER_ENV, fd_limit) as server:
        log(f"server pid {server.pid} on {server.base_url} (fd limit {fd_limit})")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=HTTP_TIMEOUT_S) as http:
            total_users = 2 + args.listeners + args.join_storm
            log(f"creating {total_users} users (signup over HTTP, argon2 t=1 m=1 MiB)")
            accounts = await _signup_all(http, total_users, args.setup_concurrency)
            host, storm_host = accounts[0], accounts[1]
            listeners = accounts[2 : 2 + args.listeners]
            joiners = accounts[2 + args.listeners :]
            space_id = await _open_space(http, host, "Fan-out bench")
            storm_space_id = space_id
            if args.storm_into == "fresh":
                storm_space_id = await _open_space(http, storm_host, "Join storm bench")
            log(f"space {space_id} is live; joining {len(listeners)} listeners")
            report["setup_joins_retried_after_5xx"] = await _join_all(
                http, space_id, listeners, args.setup_concurrency
            )

            listener_workers = [
                await Worker.start(
                    f"listeners-{index + 1}" if args.listener_procs > 1 else "listeners",
                    tmp_dir,
                    server.ws_url,
                    space_id,
                    [a.token for a in listeners[index :: args.listener_procs]],
                    args,
                )
                for index in range(args.listener_procs)
            ]
            storm_worker = await Worker.start(
                "storm", tmp_dir, server.ws_url, storm_space_id, [a.token for a in joiners], args
            )
            workers = [*listener_workers, storm_worker]
            # Wait before the sockets open: a starved client misses the server's pings, and
            # every socket closed for that makes a departure that is fanned out to all others.
            await Meters(server.pid, workers).wait_for_quiet_machine(args.wait_quiet_machine_s)
            log(f"opening {len(listeners)} event sockets ({args.ws_client} client)")
            for worker in listener_workers:
                await worker.command("connect-all")
            connected = await asyncio.gather(*(w.wait_for("connected") for w in listener_workers))
            failed = sum(c["failed"] for c in connected)
            if failed:
                log(f"  warning: {failed} sockets failed to connect")
            report["server_rss_mib_with_listeners"] = rss_mib(server.pid)

            meters = Meters(server.pid, workers)
            reactors = listeners[: args.reactors or len(listeners)]
            repeat_s = len(EMOJI) * len(reactors) / args.reactions_per_s
            if repeat_s < args.warmup_s + args.duration_s + ANSWER_GRACE_S:
                log(
                    f"  note: a (user, emoji) pair repeats every {repeat_s:.0f} s; a reaction "
                    "delayed longer than that could be matched to the wrong POST"
                )
            await _wait_until_quiet(server.pid)
            lost = args.listeners - sum(w.latest["open"] for w in listener_workers)
            if lost:
                log(f"  warning: {lost} listener sockets closed before the measurement")
            report["listener_sockets_closed_before_measuring"] = lost
            client = KeepAliveClient(server.base_url)
            reaction_window = None
            if args.duration_s > 0:
                log(
                    f"reactions: {args.reactions_per_s}/s from {len(reactors)} reactors, "
                    f"{args.warmup_s:g} s warm-up + {args.duration_s:g} s measured"
                )
                profile = None
                if args.profile_server is not None:
                    profile = functools.partial(
                        _start_profiler, server.pid, args.duration_s, args.profile_server
                    )
                reaction_window = await _reactions(
                    client,
                    space_id,
                    reactors,
                    args.reactions_per_s,
                    args.warmup_s,
                    args.duration_s,
                    meters,
                    workers,
                    profile,
                )
                await _wait_until_quiet(server.pid)
            storm_window = None
            if joiners:
                await meters.wait_for_quiet_machine(args.wait_quiet_machine_s)
                log(f"join storm: {len(joiners)} joiners at {args.join_rate}/s")
                storm_window = await _join_storm(
                    client, storm_space_id, joiners, args.join_rate, storm_worker, meters, workers
                )
            report["timed_request_connections_opened"] = client.opened
            client.close()
            report["server_rss_mib_at_end"] = rss_mib(server.pid)
            report["server_log_exceptions"] = exceptions_logged(server)
            report["server_gc_pauses"] = gc_pauses_logged(server)
            log("collecting results from the workers")
            listener_result = _merge_results(
                await asyncio.gather(*(w.finish() for w in listener_workers))
            )
            storm_result = await storm_worker.finish()
    frames = _parse_frames(listener_result, storm_result)
    report["listeners_connected"] = listener_result["connected"]
    report["listener_connect"] = summarize_ms(listener_result["ready_ms"])
    report["listener_connect_errors"] = listener_result["connect_errors"]
    report["negotiated_extensions"] = listener_result.get("negotiated_extensions", {})
    report["closed_by_server"] = {
        "listeners": listener_result["closed_by_server"],
        "storm": storm_result["closed_by_server"],
    }
    if reaction_window is not None:
        report["reactions"] = _reaction_report(
            reaction_window, frames, listener_result["connected"]
        )
    if storm_window is not None:
        report["join_storm"] = _storm_report(storm_window, frames, storm_result)
    return report


# ---------------------------------------------------------------- output


def _ms(summary: dict[str, Any], key: str) -> str:
    value = summary[key]
    if value is None:
        return "unfinished"
    return "n/a" if isinstance(value, float) and math.isnan(value) else f"{value:.1f}"


def _below(summary: dict[str, Any], key: str, target_ms: float) -> bool:
    value = summary[key]
    return value is not None and not math.isnan(value) and value < target_ms


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _markdown(result: dict[str, Any]) -> str:
    r = result["report"]
    settings = result["settings"]
    machine = result["machine"]
    lines = [
        "# Spaces fan-out benchmark",
        "",
        f"- date: {result['date']}",
        f"- command: `{result['command']}`",
        f"- source: {result['source']}",
        f"- machine: nproc {machine['nproc']}, {machine['cpu_model']}, "
        f"Python {machine['python']}, {machine['platform']}",
        "- packages: " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()),
        "- server: `townhall serve` (uvicorn, uvloop, websockets-sansio, SQLite, in-process bus)"
        f", env {' '.join(f'{k}={v}' for k, v in SERVER_ENV.items())} (cheap argon2 for the"
        " signups only); the clients run on the same machine and share its cores",
        f"- WebSocket clients: {settings.get('ws_client', 'websockets')} in "
        f"{settings.get('listener_procs', 1)} listener process(es); compression offered: "
        f"{settings['compression'] if settings.get('ws_client') == 'websockets' else 'none'}"
        ", agreed by "
        f"the server: {r.get('negotiated_extensions', 'not recorded')}; niceness of the server "
        f"and clients: {settings['nice']}",
        "- latencies: a reaction or join that got no answer, or never reached a listener, by "
        f"the end of its phase ({ANSWER_GRACE_S:g} s after the last request) counts as slower "
        "than every measured one (`unfinished`)",
        "",
        f"Listeners connected: {r['listeners_connected']} of {settings['listeners']} "
        f"(socket ready p50 {_ms(r['listener_connect'], 'p50_ms')} ms, p99 "
        f"{_ms(r['listener_connect'], 'p99_ms')} ms, errors {r['listener_connect_errors']}); "
        f"sockets closed by the server: {r['closed_by_server']}; server RSS "
        f"{r['server_rss_mib_with_listeners']:.0f} MiB with the listeners connected, "
        f"{r['server_rss_mib_at_end']:.0f} MiB at the end. Set-up joins retried after a 5xx: "
        f"{r['setup_joins_retried_after_5xx']}. Listener sockets closed before the measurement: "
        f"{r['listener_sockets_closed_before_measuring']}. Exceptions in the server log: "
        f"{r.get('server_log_exceptions') or 'none'}. Garbage-collection pauses over 50 ms "
        f"the server logged: {len(r.get('server_gc_pauses', []))}"
        f"{_longest_pause(r.get('server_gc_pauses', []))}.",
    ]
    if "reactions" in r:
        lines += _reaction_section(r["reactions"], settings)
    if "join_storm" in r:
        lines += _storm_section(r["join_storm"], settings, r["listeners_connected"])
    lines += ["", f"Raw numbers: `{Path(result['json']).name}`.", ""]
    return "\n".join(lines)


def _reaction_section(react: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    lat = react["latency"]
    cpu_verdict = _verdict(react["server_cpu_pct_of_one_core"] < TARGET_SERVER_CPU_PCT)
    starved_pct = react["server_scheduling"]["main_thread_waiting_for_cpu_pct"]
    if starved_pct > STARVED_PCT:
        cpu_verdict = f"not measurable: the server waited for a CPU {starved_pct:.0f}% of the time"
    elif lat["unfinished"] or react["post_response"]["unfinished"]:
        cpu_verdict = "**missed**: the server did not keep up (work left undone)"
    return [
        "",
        f"## Reactions: {settings['listeners']} listeners, {settings['reactions_per_s']}/s",
        "",
        "| metric | value | target |",
        "|---|---|---|",
        f"| delivery latency p50 (POST sent -> frame at each listener) | {_ms(lat, 'p50_ms')} ms"
        " | |",
        f"| delivery latency p99 | {_ms(lat, 'p99_ms')} ms | < {TARGET_REACTION_P99_MS:.0f} ms: "
        f"{_verdict(_below(lat, 'p99_ms', TARGET_REACTION_P99_MS))} |",
        f"| delivery latency p99.9 / max | {_ms(lat, 'p999_ms')} / {_ms(lat, 'max_ms')} ms | |",
        f"| server CPU | {react['server_cpu_pct_of_one_core']:.0f}% of one core | < 100%: "
        f"{cpu_verdict} |",
        f"| deliveries that never arrived (counted as slowest above) | {lat['unfinished']} | |",
        f"| latency to the first listener p50 / p99 | "
        f"{_ms(react['latency_to_first_listener'], 'p50_ms')} / "
        f"{_ms(react['latency_to_first_listener'], 'p99_ms')} ms | |",
        f"| fan-out spread, first to last listener, p50 / p99 | "
        f"{_ms(react['fanout_spread_first_to_last_listener'], 'p50_ms')} / "
        f"{_ms(react['fanout_spread_first_to_last_listener'], 'p99_ms')} ms | |",
        f"| POST /reactions response p50 / p99 | {_ms(react['post_response'], 'p50_ms')} / "
        f"{_ms(react['post_response'], 'p99_ms')} ms | |",
        f"| reactions sent (achieved rate) | {react['reactions_sent']} "
        f"({react['achieved_rate_per_s']:.1f}/s), statuses {react['statuses']} | |",
        f"| latency samples (reaction x listener) | {lat['count']} | |",
        f"| deliveries missing / expected | {react['deliveries_missing']} / "
        f"{react['deliveries_expected']} | |",
        f"| accepted but never delivered; dropped by the batcher | "
        f"{react['accepted_but_never_delivered']}; {react['dropped_by_batcher']} | |",
        f"| server CPU per delivery (frame x listener, POSTs included) | "
        f"{_per_delivery(react)} "
        f"({react['deliveries_received_during_window']} in the window) | |",
        f"| frames measured, mean reactions per frame | {react['frames_measured']}, "
        f"{react['mean_reactions_per_frame']:.1f} | |",
        f"| client and other CPU (% of one core) | {_client_cpu(react)} | |",
        f"| server event-loop thread: on a CPU / runnable but waiting for one | "
        f"{_sched(react)} | |",
    ]


def _storm_section(storm: dict[str, Any], settings: dict[str, Any], listeners: int) -> list[str]:
    join = storm["join_post"]
    into = (
        f"into the same Space with its {listeners} listeners connected"
        if settings["storm_into"] == "same"
        else "into a fresh Space (only the joiners listen)"
    )
    fanout = storm["joined_event_fanout_to_listeners"]
    return [
        "",
        f"## Join storm: {settings['join_storm']} joiners at {settings['join_rate']}/s, {into}",
        "",
        "| metric | value | target |",
        "|---|---|---|",
        f"| POST /join p50 | {_ms(join, 'p50_ms')} ms | |",
        f"| POST /join p99 | {_ms(join, 'p99_ms')} ms | < {TARGET_JOIN_P99_MS:.0f} ms: "
        f"{_verdict(_below(join, 'p99_ms', TARGET_JOIN_P99_MS))} |",
        f"| POST /join max | {_ms(join, 'max_ms')} ms | |",
        f"| joins (achieved rate), statuses | {storm['joins']} "
        f"({storm['achieved_rate_per_s']:.1f}/s), {storm['statuses']} | |",
        f"| joiner's socket ready after join p50 / p99 | "
        f"{_ms(storm['socket_ready_after_join'], 'p50_ms')} / "
        f"{_ms(storm['socket_ready_after_join'], 'p99_ms')} ms | |",
        f"| `participant.joined` at sockets already open, from POST, p50 / p99 | "
        f"{_ms(fanout, 'p50_ms')} / {_ms(fanout, 'p99_ms')} ms ({fanout['count']} deliveries)"
        " | |",
        f"| server CPU | {storm['server_cpu_pct_of_one_core']:.0f}% of one core | |",
        f"| client and other CPU (% of one core) | {_client_cpu(storm)} | |",
        f"| server event-loop thread: on a CPU / runnable but waiting for one | "
        f"{_sched(storm)} | |",
        f"| socket errors | {storm['socket_connect_errors'] or 'none'} | |",
    ]


def _per_delivery(react: dict[str, Any]) -> str:
    if not react["deliveries_received_during_window"]:
        return "n/a"
    return f"{react['server_cpu_us_per_delivery']:.0f} µs"


def _longest_pause(lines: Sequence[str]) -> str:
    pauses = [int(m.group(1)) for line in lines if (m := re.search(r"server (\d+) ms", line))]
    return f" (longest {max(pauses)} ms)" if pauses else ""


def _sched(section: dict[str, Any]) -> str:
    sched = section["server_scheduling"]
    return (
        f"{sched['main_thread_on_cpu_pct']:.0f}% / "
        f"{sched['main_thread_waiting_for_cpu_pct']:.0f}% of the window"
    )


def _client_cpu(section: dict[str, Any]) -> str:
    clients = ", ".join(
        f"{name} {pct:.0f}%" for name, pct in section["client_cpu_pct_of_one_core"].items()
    )
    return (
        f"{clients}; other processes on the machine "
        f"{section['other_processes_cpu_pct_of_one_core']:.0f}% (machine "
        f"{section['machine_cpu_pct_of_one_core']:.0f}% of {100 * NPROC}%, load average "
        f"{section['load_average_1min_at_end']:.1f})"
    )


def _renice(nice: int) -> None:
    """Niceness for this process and its autogroup; the server and the workers inherit both.

    With autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) the kernel shares
    the CPU between sessions first, so a process's own niceness only counts inside its
    session: the autogroup's niceness is what counts against other people's work.
    """
    os.nice(nice)
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as autogroup:
        autogroup.write(str(nice))


def _source_state() -> str:
    """The commit measured, and whether src/ had uncommitted changes (others edit it live)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes in src/' if dirty else ''}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Fan-out of a live Space: reactions to many WebSocket listeners, then a "
        "join storm, against the real server on this machine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--listeners", type=int, default=2000, help="event sockets in the Space")
    parser.add_argument("--reactions-per-s", type=float, default=100.0, help="offered rate")
    parser.add_argument(
        "--reactors",
        type=int,
        default=0,
        help="listeners posting reactions in turn (0: all of them; at most 4/s each)",
    )
    parser.add_argument("--duration-s", type=float, default=30.0, help="measured reactions")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="reactions not measured")
    parser.add_argument("--join-storm", type=int, default=1000, help="joiners (0: no storm)")
    parser.add_argument("--join-rate", type=float, default=50.0, help="joins per second")
    parser.add_argument(
        "--storm-into",
        choices=("same", "fresh"),
        default="same",
        help="join the Space the listeners are in, or a fresh one of another host",
    )
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="permessage-deflate offered by the clients (browsers offer it)",
    )
    parser.add_argument("--setup-concurrency", type=int, default=8, help="signups/joins at once")
    parser.add_argument(
        "--connect-concurrency", type=int, default=32, help="sockets opened at once in set-up"
    )
    parser.add_argument(
        "--ws-client",
        choices=("light", "websockets"),
        default="light",
        help="listener sockets: townhall/loadtest/ws_light.py (reads frames and answers "
        "pings, nothing more, a few times cheaper) or the websockets library (offers "
        "--compression)",
    )
    parser.add_argument(
        "--listener-procs",
        type=int,
        default=2,
        help="processes the listener sockets are spread over (one process parsing 20,000 "
        "frames a second saturates a core and its lag would count as delivery latency)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the server and the clients, and of their autogroup (negative, as "
        "root: win the CPU from other load on a shared machine)",
    )
    parser.add_argument(
        "--wait-quiet-machine-s",
        type=float,
        default=0.0,
        help="before each measured phase, wait up to this long for other processes to use "
        f"under {QUIET_MACHINE_OTHERS_PCT:g}%% of a core (shared machines)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown report")
    parser.add_argument(
        "--profile-server",
        type=Path,
        metavar="RAW_STACKS",
        help="record the server with py-spy (pip install py-spy) during the measured reactions"
        " (GIL holder only, raw stacks)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.worker is not None:
        # uvloop, like the server: the load generator shares the server's two cores, so every
        # microsecond it spends per frame is one the server waits for.
        uvloop.run(_worker(json.loads(args.worker.read_text())))
        return 0
    needed_reactors = math.ceil(args.reactions_per_s / 4)
    if args.reactors == 0:
        args.reactors = args.listeners
    if args.duration_s > 0 and not needed_reactors <= args.reactors <= args.listeners:
        raise SystemExit(
            f"--reactors must be between {needed_reactors} (at most 4/s each, under the limit "
            f"of 5/s) and --listeners"
        )
    if args.nice:
        _renice(args.nice)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="townhall-fanout-") as tmp:
        report = uvloop.run(_run(args, Path(tmp)))
    output: Path = args.output
    json_path = output.with_suffix(".json")
    result = {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/spaces_fanout.py", *sys.argv[1:]]),
        "machine": machine_info(),
        "source": _source_state(),
        "server_env": SERVER_ENV,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "json": str(json_path),
        "report": report,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    markdown = _markdown(result)
    output.write_text(markdown)
    print(markdown)
    log(f"wrote {output} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
