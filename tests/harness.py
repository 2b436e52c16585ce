"""A real Townhall server on a loopback port, and accounts on it, for the test suites."""

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from townhall.api.app import create_app
from townhall.api.server_options import uvicorn_options
from townhall.config import RATE_LIMIT_NAMES, RateLimit, RateLimits, Settings
from townhall.container import Container, build_container

TEST_PASSWORD = "correct horse battery"
T = TypeVar("T")


@dataclass
class LiveServer:
    """A Townhall server running in this process on a loopback port."""

    url: str
    settings: Settings
    container: Container
    """The server runs in this process, so tests may look at its parts and shorten timers."""
    app: Any = None
    """The ASGI app, for tests that look at what it keeps in `app.state`."""
    loop: asyncio.AbstractEventLoop | None = None
    """The server's event loop (uvloop, as under `townhall serve`)."""

    def run_on_loop(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Runs a coroutine on the server's loop, for tests that drive its parts directly."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def signup(self, username: str | None = None, password: str = TEST_PASSWORD) -> "Account":
        username = username or f"u{uuid.uuid4().hex[:12]}"
        with self.client() as client:
            response = client.post(
                "/api/v1/auth/signup", json={"username": username, "password": password}
            )
        assert response.status_code == 201, response.text
        body = response.json()
        return Account(self, username, body["user"]["id"], body["token"])


@dataclass
class Account:
    server: LiveServer
    username: str
    id: str
    token: str

    def client(self) -> httpx.Client:
        return self.server.client(self.token)


UNLIMITED = RateLimit(per_user=0, per_ip=0, window_s=60.0)
TEST_RATE_LIMITS = RateLimits(
    signup=UNLIMITED,
    login=UNLIMITED,
    post=UNLIMITED,
    follow=UNLIMITED,
    join=UNLIMITED,
    speak_request=UNLIMITED,
    # The reaction limit stays as shipped: tests of the reaction stream count on it.
    reaction=RateLimit(per_user=5, per_ip=0, window_s=1.0),
    webrtc_offer=UNLIMITED,
    report=UNLIMITED,
)
"""Every suite signs up, posts and joins from 127.0.0.1 far faster than a person; the
tests of the limits themselves set their own (tests/integration/api/test_rate_limits_api.py)."""
TEST_RATE_LIMIT_ENV = {
    f"TOWNHALL_RATE_{name.upper()}_{side.upper()}": str(getattr(TEST_RATE_LIMITS.of(name), side))
    for name in RATE_LIMIT_NAMES
    for side in ("per_user", "per_ip")
}
"""The same, for a server in its own process (`townhall serve` reads TOWNHALL_* variables)."""


def make_settings(data_dir: Path, database_url: str = "") -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        password_time_cost=1,
        password_memory_kib=1024,
        # Tests act as a proxy so each can send its own X-Forwarded-For client address.
        trusted_proxies=("127.0.0.1",),
        rate_limits=TEST_RATE_LIMITS,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, remembering the event loop it runs on."""

    loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)


def serve_in_thread(
    settings: Settings, **uvicorn_overrides: Any
) -> Generator[LiveServer, None, None]:
    """Runs the real app under uvicorn on a free loopback port until the generator closes.

    The uvicorn settings are those of `townhall serve`; a test may override some (e.g. `ws`
    to run without the raw WebSocket write).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if not settings.node_url:
        settings = settings.with_overrides(node_url=f"http://127.0.0.1:{port}")
    container = build_container(settings)
    app = create_app(settings, container)
    options = {**uvicorn_options(), **uvicorn_overrides}
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **options)
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, container, app, server.loop)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_nodes(
    shared_dir: Path,
    database_url: str,
    redis_url: str,
    node_ids: Sequence[int],
    **overrides: Any,
) -> Iterator[list[LiveServer]]:
    """Several nodes of one deployment: one database, one Redis, one data directory."""
    generators: list[Generator[LiveServer, None, None]] = []
    try:
        nodes = []
        for node_id in node_ids:
            settings = make_settings(shared_dir, database_url).with_overrides(
                redis_url=redis_url, node_id=node_id, **overrides
            )
            generators.append(serve_in_thread(settings))
            nodes.append(next(generators[-1]))
        yield nodes
    finally:
        for generator in generators:
            generator.close()
