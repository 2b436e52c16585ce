"""Townhall nodes as real server processes (`python -m townhall serve`), so a test can
`kill -9` one: a deployment of several nodes sharing PostgreSQL, Redis and a data dir."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiortc.mediastreams import MediaStreamTrack
from sqlalchemy import create_engine, text

from tests.harness import TEST_PASSWORD, TEST_RATE_LIMIT_ENV
from tests.media.peers import Peer, connect

NODE_START_TIMEOUT_S = 60.0
SIGNAL_RETRY_S = 20.0
"""Long enough for a dead node's media lease to lapse, or a killed node to start again."""
SIGNAL_RETRY_INTERVAL_S = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class NodeAccount:
    username: str
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Node:
    node_id: int
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    access_log: bool = False
    """uvicorn's access log in the node's log file (the load tester counts origin requests)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own copy
            command = [sys.executable, "-m", "townhall", "serve", "--host", "127.0.0.1"]
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), *([] if self.access_log else ["--quiet"])],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node {self.node_id} exited: {self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node {self.node_id} did not start: {self.log_path.read_text()}")

    def kill(self) -> None:
        """kill -9: no shutdown code runs, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, account: NodeAccount | None = None) -> httpx.Client:
        headers = account.headers if account else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)

    def signup(self) -> NodeAccount:
        username = f"n{uuid.uuid4().hex[:12]}"
        with self.client() as client:
            response = client.post(
                "/api/v1/auth/signup", json={"username": username, "password": TEST_PASSWORD}
            )
        assert response.status_code == 201, response.text
        body = response.json()
        return NodeAccount(username, body["user"]["id"], body["token"])


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A database of its own: other suites' single-node servers hold no media leases."""
    name = f"townhall_nodes_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def node_processes(
    data_dir: Path,
    database_url: str,
    redis_url: str,
    count: int,
    access_log: bool = False,
    **settings: str,
) -> Iterator[list[Node]]:
    """`count` nodes on loopback ports; extra TOWNHALL_* settings by lower-case name."""
    base_env = {
        **os.environ,
        "TOWNHALL_DATA_DIR": str(data_dir),
        "TOWNHALL_DATABASE_URL": database_url,
        "TOWNHALL_REDIS_URL": redis_url,
        "TOWNHALL_PASSWORD_TIME_COST": "1",
        "TOWNHALL_PASSWORD_MEMORY_KIB": "1024",
        "TOWNHALL_CAPTIONS_MODEL": "none",
        "TOWNHALL_RTC_HOST_ADDRESSES": "127.0.0.1",
        **TEST_RATE_LIMIT_ENV,
        **{f"TOWNHALL_{name.upper()}": value for name, value in settings.items()},
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    nodes = []
    for index in range(count):
        node_id = 100 + index
        node = Node(node_id, free_port(), data_dir / f"node-{node_id}.log", access_log=access_log)
        node.env = {**base_env, "TOWNHALL_NODE_ID": str(node_id)}
        nodes.append(node)
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def call(node: Node, account: NodeAccount, method: str, path: str, **kwargs: Any) -> Any:
    """An API request as `account` that must succeed; the JSON body, if there is one."""
    with node.client(account) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def signal_until_answered(
    node: Node, account: NodeAccount, space_id: str, route: str, send: MediaStreamTrack | None
) -> Peer:
    """What a client does while the Space's media moves to another node or its server is
    away: retry signalling that answers 503 or does not connect at all."""
    deadline = time.monotonic() + SIGNAL_RETRY_S
    while True:
        try:
            return await connect(node.url, account.token, space_id, route, send)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 503 or time.monotonic() > deadline:
                raise
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(SIGNAL_RETRY_INTERVAL_S)
