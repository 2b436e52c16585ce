"""Server CPU per request on the hot paths of a live Space: reactions and joins.

    .venv/bin/python bench/request_cost.py --requests 500
    .venv/bin/python bench/request_cost.py --help

Starts `townhall serve` (SQLite, in-process bus, cheap argon2 for the signups) in its own
process, signs up a host and users, opens a Space and joins the reactors, then for each
operation sends `--requests` requests one after another over one keep-alive connection and
reads the server's user+system CPU from /proc before and after. CPU time per request is the
number that matters here (latency on a shared 2-core machine mostly measures the neighbours);
client-side latency percentiles are reported beside it.

Operations:
- `health`: GET /api/v1/health, the framework's floor.
- `react`: POST /spaces/{id}/reactions, cycling through `--reactors` joined users so none
  passes the 5/s rate limit (every answer must be 202).
- `join`: POST /spaces/{id}/join by `--requests` users who were not in the Space yet.
- `join_again`: the same users join again (already present: nothing changes).
"""

import argparse
import contextlib
import json
import shlex
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.harness import cpu_seconds, log, machine_info, running_server, summarize_ms

SERVER_ENV = {"TOWNHALL_PASSWORD_TIME_COST": "1", "TOWNHALL_PASSWORD_MEMORY_KIB": "1024"}
EMOJI = ("💜", "😂", "😲", "😢", "💯", "👏", "✋", "👍", "👎", "🔥")
OPERATIONS = ("health", "react", "join", "join_again")


def _signup(client: httpx.Client, name: str) -> tuple[str, str]:
    response = client.post(
        "/api/v1/auth/signup", json={"username": name, "password": "correct horse battery"}
    )
    response.raise_for_status()
    body = response.json()
    return str(body["user"]["id"]), str(body["token"])


def _measure(
    pid: int, client: httpx.Client, requests: list[tuple[str, str, str | None, Any]]
) -> dict[str, Any]:
    """Sends the requests in order; server CPU and client latency over exactly those."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    cpu_before = cpu_seconds(pid)
    wall_before = time.monotonic()
    for method, path, token, body in requests:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        sent = time.perf_counter()
        response = client.request(method, path, headers=headers, json=body)
        latencies.append((time.perf_counter() - sent) * 1000)
        statuses[response.status_code] += 1
    wall_s = time.monotonic() - wall_before
    cpu_s = cpu_seconds(pid) - cpu_before
    return {
        "requests": len(requests),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_cpu_ms_per_request": round(1000 * cpu_s / max(len(requests), 1), 3),
        "server_cpu_percent": round(100 * cpu_s / max(wall_s, 1e-9), 1),
        "latency": summarize_ms(latencies),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="townhall-request-cost-"))
        server = stack.enter_context(running_server(Path(tmp), SERVER_ENV, fd_limit=1024))
        client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=30))
        log("signing up")
        _, host_token = _signup(client, "host")
        reactors = [_signup(client, f"reactor{i}") for i in range(args.reactors)]
        joiners = [_signup(client, f"joiner{i}") for i in range(args.requests)]
        response = client.post(
            "/api/v1/spaces",
            json={"title": "request cost"},
            headers={"Authorization": f"Bearer {host_token}"},
        )
        response.raise_for_status()
        space = response.json()["id"]
        for _, token in reactors:
            client.post(
                f"/api/v1/spaces/{space}/join",
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
        plans: dict[str, list[tuple[str, str, str | None, Any]]] = {
            "health": [("GET", "/api/v1/health", None, None)] * args.requests,
            "react": [
                (
                    "POST",
                    f"/api/v1/spaces/{space}/reactions",
                    reactors[i % len(reactors)][1],
                    {"emoji": EMOJI[i % len(EMOJI)]},
                )
                for i in range(args.requests)
            ],
            "join": [("POST", f"/api/v1/spaces/{space}/join", token, None) for _, token in joiners],
        }
        plans["join_again"] = plans["join"]
        results: dict[str, Any] = {}
        for name in args.operations:
            # A short warm-up of the same kind, so first-use costs do not count.
            if name in ("health", "react"):
                _measure(server.pid, client, plans[name][: args.warmup])
                time.sleep(1.1)  # let the warm-up's reactions leave the rate window
            log(f"measuring {name}")
            results[name] = _measure(server.pid, client, plans[name])
            log(
                f"{name}: {results[name]['server_cpu_ms_per_request']} ms CPU/request, "
                f"statuses {results[name]['statuses']}"
            )
    return results


def write_report(args: argparse.Namespace, results: dict[str, Any], source: str) -> None:
    command = shlex.join([".venv/bin/python", "bench/request_cost.py", *sys.argv[1:]])
    machine = machine_info()
    lines = [
        "# Server CPU per request on a live Space's hot paths",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        f"- source: {source}",
        f"- machine: {json.dumps(machine)}",
        "- server: `townhall serve` (SQLite, in-process bus), cheap argon2 for the signups;"
        " requests sent one after another over one keep-alive connection",
        "",
        "| operation | requests | statuses | server CPU per request | latency p50 / p99 |",
        "|---|---|---|---|---|",
    ]
    for name, result in results.items():
        latency = result["latency"]
        lines.append(
            f"| {name} | {result['requests']} | {result['statuses']} | "
            f"{result['server_cpu_ms_per_request']:.3f} ms | "
            f"{latency['p50_ms']:.2f} / {latency['p99_ms']:.2f} ms |"
        )
    output = Path(args.output)
    output.write_text("\n".join(lines) + "\n")
    output.with_suffix(".json").write_text(
        json.dumps({"command": command, "source": source, "results": results}, indent=2) + "\n"
    )
    log(f"wrote {output}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per operation")
    parser.add_argument("--reactors", type=int, default=200, help="users who react in turn")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up requests per operation")
    parser.add_argument(
        "--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS), metavar="OP"
    )
    parser.add_argument("--source", default="", help="the commit measured, for the report")
    parser.add_argument(
        "--output",
        default="bench/results/request_cost.md",
        help="report path (a .json beside it gets the raw numbers)",
    )
    args = parser.parse_args()
    results = run(args)
    write_report(args, results, args.source)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
