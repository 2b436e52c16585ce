"""The timeline benchmark's results: statistics, the machine they came from, the markdown."""

import argparse
import math
import os
import platform
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.timeline_data import QUIET_EVERY, SeedParams
from townhall.storage.database import create_database_engine

REPO_DIR = Path(__file__).resolve().parent.parent

TARGET_SQLITE_P99_MS = 25.0

PAGE_1 = "page 1"
PAGE_2 = "page 2 (cursor)"
QUIET_PAGE_1 = "page 1, quiet user"
STORAGE_QUERY = "storage query only, page 1"
HEALTH = "floor: GET /api/v1/health"
ME = "floor: GET /api/v1/me"


def percentile(sorted_ms: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_ms:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


@dataclass
class Stats:
    """One row of the results table."""

    engine: str
    concurrency: int
    scenario: str
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests_per_s: float | None

    @classmethod
    def of(
        cls,
        engine: str,
        concurrency: int,
        scenario: str,
        samples_ms: list[float],
        requests_per_s: float | None,
    ) -> "Stats":
        ordered = sorted(samples_ms)
        return cls(
            engine=engine,
            concurrency=concurrency,
            scenario=scenario,
            requests=len(ordered),
            p50_ms=round(percentile(ordered, 0.50), 3),
            p90_ms=round(percentile(ordered, 0.90), 3),
            p99_ms=round(percentile(ordered, 0.99), 3),
            max_ms=round(ordered[-1], 3) if ordered else float("nan"),
            requests_per_s=None if requests_per_s is None else round(requests_per_s, 1),
        )


@dataclass
class RunInfo:
    """What one load run cost, so numbers from a busy machine can be told apart."""

    engine: str
    concurrency: int
    requests: int
    wall_s: float
    server_cpu_ms_per_request: float | None
    postgres_cpu_ms_per_request: float | None
    client_cpu_ms_per_request: float
    other_processes_cpu_percent: float | None
    load_average_before: float
    load_average_after: float


@dataclass
class EngineResult:
    engine: str
    database: str
    seeded: str
    query_plan: str
    stats: list[Stats] = field(default_factory=list)
    runs: list[RunInfo] = field(default_factory=list)


# --- report -------------------------------------------------------------------------------------


def machine_info(results: Sequence[EngineResult], pg_url: str) -> dict[str, str]:

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    for package in ("sqlalchemy", "fastapi", "uvicorn", "pydantic", "psycopg", "httpx"):
        info[package] = metadata.version(package)
    if any(result.engine == "postgres" for result in results):
        info["postgresql"] = _pg_version(pg_url)
    info["git"] = _git_revision()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _pg_version(url: str) -> str:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar_one())
    finally:
        engine.dispose()


def _git_revision() -> str:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_DIR, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no commit yet"
    return f"{revision}{' + uncommitted changes' if dirty else ''}"


def render_markdown(
    command: str, args: argparse.Namespace, results: Sequence[EngineResult], info: dict[str, str]
) -> str:
    params = SeedParams(args.users, args.posts, args.follows, args.seed)
    lines = [
        "# Timeline benchmark",
        "",
        f"{params.users:,} users, {params.posts:,} posts, {params.follows} follows each "
        f"(data `{params.key}`, see bench/timeline_data.py); GET /api/v1/timeline?limit="
        f"{args.limit} over HTTP on one keep-alive connection per client; latency measured in "
        "the client, from sending the request to having the whole body."
        + (
            f" The server and the client ran at nice {args.nice}; PostgreSQL at its own."
            if args.nice
            else ""
        ),
        "",
        "```",
        command,
        "```",
        "",
        "| engine | clients | request | requests | p50 ms | p90 ms | p99 ms | max ms | req/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for row in result.stats:
            rate = "" if row.requests_per_s is None else f"{row.requests_per_s:,.0f}"
            lines.append(
                f"| {row.engine} | {row.concurrency} | {row.scenario} | {row.requests:,} | "
                f"{row.p50_ms:.2f} | {row.p90_ms:.2f} | {row.p99_ms:.2f} | {row.max_ms:.2f} | "
                f"{rate} |"
            )
    lines += [
        "",
        "| engine | clients | requests | wall s | server CPU ms/req | PostgreSQL CPU ms/req "
        "| client CPU ms/req | other processes, % of all CPUs | load avg before, after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for run in result.runs:
            lines.append(
                f"| {run.engine} | {run.concurrency} | {run.requests:,} | {run.wall_s:.1f} | "
                f"{_maybe(run.server_cpu_ms_per_request)} | "
                f"{_maybe(run.postgres_cpu_ms_per_request)} | "
                f"{run.client_cpu_ms_per_request:.2f} | "
                f"{_maybe(run.other_processes_cpu_percent, '.0f')} | "
                f"{run.load_average_before:.2f}, {run.load_average_after:.2f} |"
            )
    lines += ["", *_target_lines(results), ""]
    lines += [
        "- *page 1*: first page for a random user; *page 2 (cursor)*: the page after it, through "
        "`next_cursor`; *page 1, quiet user*: users who follow only the least active quarter "
        f"of accounts (1 user in {QUIET_EVERY}).",
        "- *storage query only*: `townhall.storage.posts.home_timeline` called in-process as "
        "the service calls it (page size + 1 rows), no HTTP, auth or JSON.",
        "- *floor*: the same server and client on the health check (no auth, no database) and "
        "on /api/v1/me (bearer token lookup + one user row): what every request costs before "
        "the timeline's own work.",
        "- *req/s*: all requests of that run (every request kind) over its wall time; the client "
        "runs on the same machine and takes CPU from the server.",
        "- *server CPU ms/req*: user + system CPU the server process used during the run, per "
        "request (*PostgreSQL*: all `postgres` processes; *client*: this program); unlike "
        "latency, it hardly depends on what else the machine runs.",
        "- *other processes*: CPU used during the run by everything else on the machine, as a "
        f"share of all {os.cpu_count()} CPUs; *load avg*: the 1-minute load average. When "
        "other processes are busy, they compete with the server and inflate its latencies, the "
        "tail above all.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        "",
        "## Databases",
        "",
        *[f"- {result.engine}: {result.database} ({result.seeded})" for result in results],
        "",
    ]
    for result in results:
        lines += [f"## Query plan, {result.engine}", "", "```", result.query_plan, "```", ""]
    return "\n".join(lines)


def _maybe(value: float | None, spec: str = ".2f") -> str:
    return "" if value is None else format(value, spec)


def _target_lines(results: Sequence[EngineResult]) -> list[str]:
    lines = []
    for result in results:
        if result.engine != "sqlite":
            continue
        sequential = [
            row
            for row in result.stats
            if row.concurrency == 1 and row.scenario in (PAGE_1, PAGE_2, QUIET_PAGE_1)
        ]
        if not sequential:
            continue
        worst = max(row.p99_ms for row in sequential)
        verdict = "met" if worst < TARGET_SQLITE_P99_MS else "NOT met"
        lines.append(
            f"Target p99 < {TARGET_SQLITE_P99_MS:.0f} ms on SQLite, one client: {verdict} "
            f"(worst p99 {worst:.2f} ms)."
        )
    return lines
