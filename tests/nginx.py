"""Debian's nginx with the documented config (deploy/nginx/townhall.conf) in front of
Townhall nodes, on loopback ports, for the scale-out tests and benchmarks.

    fresh PostgreSQL database --+
    Redis ----------------------+-- node 100, node 101, ... --- nginx <-- clients
    shared data dir ------------+
"""

import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.nodes import Node, NodeAccount, free_port, fresh_postgres, node_processes

NGINX = "/usr/sbin/nginx"
CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "townhall.conf"
LOG_FORMAT = "$request_method $uri $status $upstream_cache_status $upstream_addr"


@dataclass
class Proxy:
    url: str
    access_log: Path
    pid: int
    """The master process; its workers serve the requests."""

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def origin_requests(self, uri_pattern: str) -> Counter[str]:
        """Requests nginx passed to a node, per URI matching the pattern."""
        counts: Counter[str] = Counter()
        if not self.access_log.exists():
            return counts
        for line in self.access_log.read_text().splitlines():
            _, uri, _, _, upstream = line.split(" ", 4)
            if upstream != "-" and re.search(uri_pattern, uri):
                counts[uri] += 1
        return counts


def site_config(node_ports: Sequence[int], listen_port: int, cache_dir: Path) -> str:
    """The documented config with this run's node ports, listen port and cache path."""
    text = CONFIG.read_text()
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;\n" for port in node_ports
    )
    text = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, text)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen_port};")
    return text.replace("/var/cache/nginx/townhall", str(cache_dir))


@contextmanager
def nginx_in_front(node_ports: Sequence[int], work_dir: Path, workers: int = 1) -> Iterator[Proxy]:
    if not os.path.exists(NGINX):
        raise RuntimeError("nginx is missing: scripts/install-system-deps installs it")
    work_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("cache", "tmp"):
        (work_dir / sub).mkdir(exist_ok=True)
    port = free_port()
    (work_dir / "townhall.conf").write_text(site_config(node_ports, port, work_dir / "cache"))
    temp_paths = "".join(
        f"    {kind}_temp_path {work_dir / 'tmp' / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    (work_dir / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes {workers};\nworker_rlimit_nofile 65536;\n"
        f"pid {work_dir / 'nginx.pid'};\n"
        f"error_log {work_dir / 'error.log'} warn;\n"
        "events { worker_connections 16384; }\n"
        "http {\n"
        "    default_type application/octet-stream;\n"
        f"    log_format townhall '{LOG_FORMAT}';\n"
        f"    access_log {work_dir / 'access.log'} townhall;\n"
        f"{temp_paths}"
        f"    include {work_dir / 'townhall.conf'};\n"
        "}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(work_dir), "-c", str(work_dir / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"nginx did not start: {error}") from None
                time.sleep(0.05)
        yield Proxy(url, work_dir / "access.log", process.pid)
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(work_dir / "cache", ignore_errors=True)


@dataclass
class Deployment:
    """Scaled-out Townhall as documented: nodes sharing a database and Redis, behind nginx."""

    nodes: list[Node]
    proxy: Proxy
    database_url: str

    def client(self, account: NodeAccount | None = None) -> httpx.Client:
        """A client that goes through nginx, as a browser would."""
        headers = account.headers if account else {}
        return httpx.Client(base_url=self.proxy.url, headers=headers, timeout=20)

    def signup(self) -> NodeAccount:
        # Any node will do: accounts live in the shared database.
        return self.nodes[0].signup()

    def media_owner(self, space_id: str) -> Node:
        """The node that holds the Space's media lease."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                node_id = conn.execute(
                    text("SELECT node_id FROM media_leases WHERE space_id = :id"),
                    {"id": int(space_id)},
                ).scalar_one()
        finally:
            engine.dispose()
        return next(node for node in self.nodes if node.node_id == node_id)


@contextmanager
def nodes_behind_nginx(
    work_dir: Path,
    postgres_admin_url: str,
    redis_url: str,
    count: int = 2,
    access_log: bool = False,
    nginx_workers: int = 1,
) -> Iterator[Deployment]:
    """`count` node processes on a database of their own and Redis, with nginx in front;
    the nodes trust nginx's X-Forwarded-For."""
    with (
        fresh_postgres(postgres_admin_url) as database_url,
        node_processes(
            work_dir / "data",
            database_url,
            redis_url,
            count,
            access_log=access_log,
            trusted_proxies="127.0.0.1",
        ) as nodes,
        nginx_in_front(
            [node.port for node in nodes], work_dir / "nginx", workers=nginx_workers
        ) as proxy,
    ):
        yield Deployment(nodes, proxy, database_url)
