"""Timeline benchmark: latency of GET /api/v1/timeline over HTTP, on SQLite and PostgreSQL.

    .venv/bin/python bench/timeline.py --engine both

1. Seeds (or reuses, see timeline_data.py) a database of --users users, --posts posts and
   --follows follows each.
2. Times the storage query alone, in this process, and records its query plan.
3. Starts the real server (`python -m townhall serve`) on a free port, waits for
   /api/v1/health, warms up, then for random users fetches the first timeline page and the
   second one through its cursor, and the first page of "quiet" users (who follow only the least
   active accounts), with --concurrency clients at a time, each on a keep-alive connection.
4. Writes a markdown table, the command and the machine to --output, and the raw numbers to a
   JSON file next to it.
"""

import argparse
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    # Run as `python bench/timeline.py`: make the repository root importable, as `-m` does.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import Engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.timeline_data import (
    QUIET_EVERY,
    SeededDatabase,
    SeedParams,
    seed_postgres,
    seed_sqlite,
    token_for,
)
from bench.timeline_report import (
    HEALTH,
    ME,
    PAGE_1,
    PAGE_2,
    QUIET_PAGE_1,
    STORAGE_QUERY,
    EngineResult,
    RunInfo,
    Stats,
    machine_info,
    percentile,
    render_markdown,
)
from townhall.storage.database import create_database_engine
from townhall.storage.posts import home_timeline
from townhall.storage.tables import UserRow

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/townhall_bench"
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 30.0
PROGRESS_EVERY_S = 2.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the storage query alone --------------------------------------------------------------------


def _user_ids(engine: Engine, indexes: Sequence[int]) -> dict[int, int]:
    names = {f"bench{index}": index for index in indexes}
    with Session(engine) as session:
        rows = session.execute(
            select(UserRow.username_key, UserRow.id).where(UserRow.username_key.in_(names))
        )
        return {names[key]: user_id for key, user_id in rows}


@contextmanager
def _capture_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def _record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def query_plan(engine: Engine, user_id: int, limit: int) -> str:
    """The plan of the statement home_timeline runs, whatever its current SQL.

    PostgreSQL's comes from EXPLAIN ANALYZE, so it shows the rows each step really read.
    """
    with Session(engine) as session, _capture_sql(engine) as captured:
        home_timeline(session, user_id, None, limit)
    statement, parameters = captured[-1]
    sqlite = engine.dialect.name == "sqlite"
    prefix = (
        "EXPLAIN QUERY PLAN "
        if sqlite
        else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
    )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    if not sqlite:
        return "\n".join(str(row[0]) for row in rows)
    # Rows are (id, parent id, unused, detail); draw them as the sqlite3 shell does.
    depth = {0: -1}
    lines = []
    for node_id, parent_id, _, detail in rows:
        depth[node_id] = depth.get(parent_id, -1) + 1
        lines.append(f"{'   ' * depth[node_id]}{detail}")
    return "\n".join(lines)


def time_storage_query(
    engine: Engine, user_ids: Sequence[int], limit: int, warmup: int
) -> list[float]:
    """home_timeline as the service calls it (page size + 1, one session each), no HTTP."""
    samples_ms: list[float] = []
    for position, user_id in enumerate(user_ids):
        started = time.perf_counter()
        with Session(engine) as session:
            home_timeline(session, user_id, None, limit + 1)
        if position >= warmup:
            samples_ms.append((time.perf_counter() - started) * 1000)
    return samples_ms


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@dataclass(frozen=True)
class CpuSample:
    """Cumulative CPU seconds, from /proc (Linux): the machine's, the server's, PostgreSQL's."""

    machine_busy_s: float
    machine_total_s: float
    server_s: float
    postgres_s: float

    @classmethod
    def take(cls, server_pid: int) -> "CpuSample | None":
        try:
            ticks = [
                int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]
            ]
            # user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
            busy = sum(ticks[:3]) + sum(ticks[5:8])
            total = busy + ticks[3] + ticks[4]
            server = _process_cpu_ticks(Path(f"/proc/{server_pid}/stat").read_text())
        except (OSError, IndexError, ValueError):
            return None
        postgres = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                raw = stat.read_text()
            except OSError:
                continue  # the process ended meanwhile
            if raw[raw.index("(") + 1 : raw.rindex(")")] == "postgres":
                postgres += _process_cpu_ticks(raw)
        per_s = os.sysconf("SC_CLK_TCK")
        return cls(
            machine_busy_s=busy / per_s,
            machine_total_s=total / per_s,
            server_s=server / per_s,
            postgres_s=postgres / per_s,
        )


def _process_cpu_ticks(stat: str) -> int:
    """utime + stime of a /proc/<pid>/stat line (fields 14 and 15 of proc(5))."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


@contextmanager
def running_server(database_url: str, name: str, nice: int) -> Iterator[Server]:
    """Runs `python -m townhall serve` on a free port until the block ends.

    A non-zero `nice` is set in the child before it starts, so every thread it makes has it.
    """
    port = free_port()
    data_dir = DATA_DIR / f"server-{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = DATA_DIR / f"server-{name}.log"
    command = [
        sys.executable,
        "-m",
        "townhall",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        database_url,
        "--data-dir",
        str(data_dir),
        "--quiet",
    ]
    env = {**os.environ, "TOWNHALL_DATA_DIR": str(data_dir)}
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log_file:
        _log(f"{name}: starting server on {base_url} (log: {log_path})")
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_DIR,
            preexec_fn=(lambda: os.setpriority(os.PRIO_PROCESS, 0, nice)) if nice else None,
        )
        try:
            _wait_until_healthy(process, base_url, log_path)
            yield Server(base_url, process.pid)
        finally:
            _stop(process, name)


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}; see {log_path}")
            try:
                if client.get("/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer within {SERVER_START_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _log(f"{name}: server ignored SIGINT; killing it")
            process.kill()
            process.wait()
    _log(f"{name}: server stopped (exit code {process.returncode})")


# --- HTTP load ----------------------------------------------------------------------------------


class Recorder:
    """Latencies per scenario, shared by the client threads; prints progress as it goes."""

    def __init__(self, label: str, total_users: int) -> None:
        self.label = label
        self.total_users = total_users
        self.samples_ms: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self._users_done = 0
        self._lock = threading.Lock()
        self._last_print = time.monotonic()

    def add(self, scenario: str, elapsed_ms: float) -> None:
        with self._lock:
            self.samples_ms.setdefault(scenario, []).append(elapsed_ms)

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def user_done(self) -> None:
        with self._lock:
            self._users_done += 1
            now = time.monotonic()
            if now - self._last_print < PROGRESS_EVERY_S and self._users_done < self.total_users:
                return
            self._last_print = now
            page_1 = sorted(self.samples_ms.get(PAGE_1, []))
            _log(
                f"  {self.label}: {self._users_done:,}/{self.total_users:,} users, "
                f"page 1 p50 {percentile(page_1, 0.5):.2f} ms p99 {percentile(page_1, 0.99):.2f} ms"
            )


def _timed_get(
    client: httpx.Client, token: str, params: dict[str, str | int], recorder: Recorder
) -> tuple[float, dict[str, Any] | None]:
    started = time.perf_counter()
    response = client.get(
        "/api/v1/timeline", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        recorder.error(f"{response.status_code} {response.text[:200]}")
        return elapsed_ms, None
    body: dict[str, Any] = response.json()
    return elapsed_ms, body


@dataclass(frozen=True)
class Visit:
    """One user to fetch timeline pages for; `quiet` users get only the first page."""

    user_index: int
    quiet: bool


def _visit(client: httpx.Client, visit: Visit, limit: int, recorder: Recorder) -> None:
    token = token_for(visit.user_index)
    elapsed_ms, body = _timed_get(client, token, {"limit": limit}, recorder)
    if body is None:
        return
    if len(body["data"]) != limit:
        recorder.error(f"user {visit.user_index}: {len(body['data'])} posts on page 1")
    if visit.quiet:
        recorder.add(QUIET_PAGE_1, elapsed_ms)
        return
    recorder.add(PAGE_1, elapsed_ms)
    cursor = body.get("next_cursor")
    if not cursor:
        recorder.error(f"user {visit.user_index}: no next_cursor")
        return
    elapsed_ms, body = _timed_get(client, token, {"limit": limit, "cursor": cursor}, recorder)
    if body is not None:
        recorder.add(PAGE_2, elapsed_ms)
    recorder.user_done()


def run_load(
    base_url: str, visits: Sequence[Visit], concurrency: int, limit: int, label: str
) -> tuple[Recorder, float]:
    """Spreads the visits over `concurrency` threads, each with its own keep-alive client."""
    recorder = Recorder(label, sum(1 for visit in visits if not visit.quiet))
    shares = [visits[worker::concurrency] for worker in range(concurrency)]

    def _worker(share: Sequence[Visit]) -> None:
        with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            for visit in share:
                _visit(client, visit, limit, recorder)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(_worker, share) for share in shares]:
            future.result()
    return recorder, time.perf_counter() - started


def choose_visits(rng: random.Random, params: SeedParams, users: int, quiet: int) -> list[Visit]:
    quiet_indexes = list(range(0, params.users, QUIET_EVERY))
    visits = [Visit(rng.randrange(params.users), False) for _ in range(users)]
    visits += [Visit(rng.choice(quiet_indexes), True) for _ in range(quiet)]
    rng.shuffle(visits)
    return visits


# --- one engine ---------------------------------------------------------------------------------


def bench_engine(
    name: str, seeded: SeededDatabase, args: argparse.Namespace, rng: random.Random
) -> EngineResult:
    params = seeded.params
    engine = create_database_engine(seeded.url)
    try:
        query_users = [rng.randrange(params.users) for _ in range(args.requests + args.warmup)]
        ids = _user_ids(engine, query_users)
        plan = query_plan(engine, ids[query_users[0]], args.limit + 1)
        _log(f"{name}: timing the storage query in-process ({args.requests} users)")
        query_ms = time_storage_query(
            engine, [ids[index] for index in query_users], args.limit, args.warmup
        )
    finally:
        engine.dispose()
    how = f"reused, checked in {seeded.seconds:.1f} s" if seeded.reused else "seeded"
    if not seeded.reused:
        how += f" in {seeded.seconds:.0f} s"
    result = EngineResult(name, _describe_url(seeded.url), how, plan)
    result.stats.append(Stats.of(name, 1, STORAGE_QUERY, query_ms, None))
    with running_server(seeded.url, name, args.nice) as server:
        _log(f"{name}: warming up ({args.warmup} users)")
        warmup = choose_visits(rng, params, args.warmup, args.warmup // 4)
        recorder, _ = run_load(server.base_url, warmup, 1, args.limit, f"{name} warm-up")
        _check(recorder)
        for concurrency in args.concurrency:
            visits = choose_visits(rng, params, args.requests, args.requests // 4)
            run, stats = measure_run(server, name, visits, concurrency, args.limit)
            result.runs.append(run)
            result.stats += stats
        result.stats += measure_floor(server, name, rng, params, args.requests)
    return result


def measure_run(
    server: Server, name: str, visits: Sequence[Visit], concurrency: int, limit: int
) -> tuple[RunInfo, list[Stats]]:
    label = f"{name} concurrency {concurrency}"
    _log(f"{label}: {len(visits):,} users")
    load_before = os.getloadavg()[0]
    before = CpuSample.take(server.pid)
    client_before_s = time.process_time()
    recorder, wall_s = run_load(server.base_url, visits, concurrency, limit, label)
    client_s = time.process_time() - client_before_s
    after = CpuSample.take(server.pid)
    _check(recorder)
    requests = sum(len(samples) for samples in recorder.samples_ms.values())

    def per_request_ms(seconds: float) -> float:
        return round(seconds * 1000 / requests, 2)

    run = RunInfo(
        engine=name,
        concurrency=concurrency,
        requests=requests,
        wall_s=round(wall_s, 2),
        server_cpu_ms_per_request=None,
        postgres_cpu_ms_per_request=None,
        client_cpu_ms_per_request=per_request_ms(client_s),
        other_processes_cpu_percent=None,
        load_average_before=round(load_before, 2),
        load_average_after=round(os.getloadavg()[0], 2),
    )
    if before is not None and after is not None:
        server_s = after.server_s - before.server_s
        postgres_s = after.postgres_s - before.postgres_s
        others_s = after.machine_busy_s - before.machine_busy_s - server_s - postgres_s - client_s
        total_s = after.machine_total_s - before.machine_total_s
        run.server_cpu_ms_per_request = per_request_ms(server_s)
        if name == "postgres":
            run.postgres_cpu_ms_per_request = per_request_ms(postgres_s)
        run.other_processes_cpu_percent = round(max(others_s, 0.0) * 100 / total_s, 1)
    stats = [
        Stats.of(
            name, concurrency, scenario, recorder.samples_ms.get(scenario, []), requests / wall_s
        )
        for scenario in (PAGE_1, PAGE_2, QUIET_PAGE_1)
    ]
    return run, stats


def measure_floor(
    server: Server, name: str, rng: random.Random, params: SeedParams, count: int
) -> list[Stats]:
    """What any request costs: the health check (no auth, no database), and /me (auth + a row)."""
    _log(f"{name}: measuring the floor ({count} health checks, {count} /me)")
    samples: dict[str, list[float]] = {HEALTH: [], ME: []}
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_S) as client:
        for _ in range(count):
            for scenario, path, headers in (
                (HEALTH, "/api/v1/health", {}),
                (
                    ME,
                    "/api/v1/me",
                    {"Authorization": f"Bearer {token_for(rng.randrange(params.users))}"},
                ),
            ):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                samples[scenario].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
    return [Stats.of(name, 1, scenario, values, None) for scenario, values in samples.items()]


def _check(recorder: Recorder) -> None:
    if recorder.errors:
        shown = "\n  ".join(recorder.errors[:5])
        raise SystemExit(f"{recorder.label}: {len(recorder.errors)} bad responses:\n  {shown}")


def _describe_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = Path(parsed.database or "")
        try:
            return f"SQLite file {database.relative_to(REPO_DIR)}"
        except ValueError:
            return f"SQLite file {database}"
    return f"PostgreSQL database {parsed.database} on {parsed.host}:{parsed.port or 5432}"


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/timeline.py",
        description="Measure GET /api/v1/timeline latency over HTTP on SQLite and PostgreSQL; "
        "the seeded databases are kept under bench/.data/ and reused.",
    )
    parser.add_argument(
        "--engine", choices=("sqlite", "postgres", "both"), default="both", help="default both"
    )
    parser.add_argument("--users", type=int, default=10_000, help="users (default 10000)")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts (default 1000000)")
    parser.add_argument(
        "--follows", type=int, default=200, help="accounts each user follows (default 200)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed of the data and the load (default 1)"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2000,
        help="random users per run, each fetching page 1 and page 2, plus a quarter as many "
        "quiet users fetching page 1 (default 2000)",
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="users fetched before timing (default 200)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 4],
        help="clients at a time, one run per value (default: 1 4)",
    )
    parser.add_argument("--limit", type=int, default=20, help="posts per page (default 20)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of the server and this client (default 0; negative values, "
        "root only, keep other work on a shared machine from inflating the tail; PostgreSQL "
        "keeps its own)",
    )
    parser.add_argument(
        "--sqlite-path",
        type=Path,
        default=None,
        help="SQLite file (default bench/.data/timeline-<parameters>.db)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TOWNHALL_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL database; its name must contain 'bench', as it is dropped and rebuilt "
        f"when it holds other data (default $TOWNHALL_BENCH_PG_URL or {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH_DIR / "results" / "timeline.md",
        help="markdown report; the JSON goes next to it (default bench/results/timeline.md)",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or any(c < 1 for c in args.concurrency):
        parser.error("--requests and --concurrency must be at least 1, --warmup at least 0")
    if not 1 <= args.limit <= 100:
        parser.error("--limit must be 1 to 100, as the API allows")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    params = SeedParams(args.users, args.posts, args.follows, args.seed)
    params.check()
    if args.posts < args.limit * 2:
        raise SystemExit("--posts is too small for two pages per user")
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    if args.nice:
        # Before any thread exists, so the client threads inherit it too.
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    results: list[EngineResult] = []
    for name in engines:
        rng = random.Random(args.seed)
        if name == "sqlite":
            path = args.sqlite_path or DATA_DIR / f"timeline-{params.key}.db"
            seeded = seed_sqlite(f"sqlite:///{Path(path).resolve()}", params)
        else:
            seeded = seed_postgres(args.pg_url, params)
        results.append(bench_engine(name, seeded, args, rng))
    command = " ".join(
        shlex.quote(part)
        for part in [_relative(sys.executable), "bench/timeline.py", *sys.argv[1:]]
    )
    info = machine_info(results, args.pg_url)
    markdown = render_markdown(command, args, results, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    report = {
        "command": command,
        "parameters": {**asdict(params), "key": params.key, "limit": args.limit},
        "machine": info,
        "engines": [asdict(result) for result in results],
    }
    json_path = args.output.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown)
    _log(f"wrote {args.output} and {json_path}")
    return 0


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


if __name__ == "__main__":
    raise SystemExit(main())
