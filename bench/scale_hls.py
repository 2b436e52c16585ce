"""Issue #7's scale-out benchmark: HLS listeners at the real pace through nginx in front
of two nodes (PostgreSQL + Redis + a shared data dir), counting what reaches the origin.

Starts everything itself on loopback (a fresh PostgreSQL database, two `townhall serve`
processes with their access logs, Debian's nginx with deploy/nginx/townhall.conf), then
runs `townhall loadtest` against nginx and writes bench/results/scale_hls.md and .json.

    .venv/bin/python bench/scale_hls.py                       # 10,000 players, 30 s
    .venv/bin/python bench/scale_hls.py --listeners 1000 --duration 10   # quicker
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.nginx import nodes_behind_nginx  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "TOWNHALL_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TOWNHALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=10_000, help="HLS players (10000)")
    parser.add_argument("--webrtc", type=int, default=2, help="WebRTC listeners beside them (2)")
    parser.add_argument("--duration", type=int, default=30, help="measured seconds (30)")
    parser.add_argument("--procs", type=int, default=2, help="load-tester processes (2)")
    parser.add_argument("--nginx-workers", type=int, default=1, help="nginx workers (1)")
    parser.add_argument(
        "--output", default="scale_hls", help="results file name in bench/results (scale_hls)"
    )
    return parser.parse_args()


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, Linux"


def main() -> int:
    args = parse_args()
    command = "python bench/scale_hls.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    work = Path(tempfile.mkdtemp(prefix="townhall-scale-hls-"))
    print(f"working in {work}", flush=True)
    with nodes_behind_nginx(
        work, PG_ADMIN_URL, REDIS_URL, access_log=True, nginx_workers=args.nginx_workers
    ) as deployment:
        nodes, proxy = deployment.nodes, deployment.proxy
        print(f"two nodes on {[n.url for n in nodes]}, nginx on {proxy.url}", flush=True)
        pids = [str(node.process.pid) for node in nodes if node.process is not None]
        pids += [str(pid) for pid in proxy.worker_pids()]
        report = work / "loadtest.json"
        loadtest = [
            sys.executable,
            "-m",
            "townhall",
            "loadtest",
            "--url",
            proxy.url,
            "--ws",
            "0",
            "--webrtc",
            str(args.webrtc),
            "--hls",
            str(args.listeners),
            "--reactions",
            "0",
            "--duration",
            str(args.duration),
            "--procs",
            str(args.procs),
            "--server-pid",
            *pids,
            "--origin-access-log",
            *[str(node.log_path) for node in nodes],
            "--json",
            str(report),
        ]
        started = time.monotonic()
        run = subprocess.run(loadtest, stdout=subprocess.PIPE, text=True, check=False)
        print(run.stdout, flush=True)
        elapsed = time.monotonic() - started
        if not report.exists():
            print(f"the load test failed (exit {run.returncode})", file=sys.stderr)
            return 2
    summary = run.stdout.split("\n\n", 1)[-1].strip() if run.stdout else ""
    table_start = summary.find("clients ")
    table = summary[table_start:] if table_start >= 0 else summary
    results = json.loads(report.read_text())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(results, indent=2) + "\n")
    who = {pid: f"node {i + 1}" for i, pid in enumerate(pids[:2])}
    who.update({pid: "nginx" for pid in pids[2:]})
    (RESULTS / f"{args.output}.md").write_text(
        f"# Scale-out: {args.listeners:,} HLS listeners through nginx, two nodes\n\n"
        f"Command: `{command}` (then `townhall loadtest` as below), "
        f"{time.strftime('%Y-%m-%d')}, {elapsed:.0f} s in all.\n"
        f"Machine: {machine()}; the load tester, nginx, both nodes, PostgreSQL and Redis all "
        "on it.\n\n"
        "Set-up: a fresh PostgreSQL database, Redis, two `townhall serve` nodes sharing a data "
        "dir, Debian's nginx with `deploy/nginx/townhall.conf` "
        f"({args.nginx_workers} worker). Server pids: "
        + ", ".join(f"{pid} = {name}" for pid, name in who.items())
        + ".\n\n```\n"
        + " ".join(shlex.quote(part) for part in loadtest[1:])
        + "\n\n"
        + table
        + "\n```\n"
    )
    print(f"wrote bench/results/{args.output}.md and .json")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
