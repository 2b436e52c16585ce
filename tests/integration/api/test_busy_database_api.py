"""A busy SQLite never turns a request into a 500: writers queue, or get 503 + Retry-After."""

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Account, LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import open_space, participants

WRITE_WAIT_S = 0.5


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """SQLite with a short write wait and a short writer queue, so both bounds are reached."""
    settings = make_settings(tmp_path_factory.mktemp("busy-sqlite")).with_overrides(
        db_write_wait_s=WRITE_WAIT_S, db_max_waiting_writers=4
    )
    yield from serve_in_thread(settings)


def _database_file(server: LiveServer) -> Path:
    return Path(server.settings.effective_database_url.removeprefix("sqlite:///"))


def test_many_concurrent_writers_get_2xx_or_503_and_only_2xx_are_written(
    busy_server: LiveServer,
) -> None:
    host = busy_server.signup()
    space_id = open_space(host)["id"]
    people = [busy_server.signup() for _ in range(60)]
    statuses: dict[str, int] = {}
    bodies: dict[str, dict[str, object]] = {}
    start = threading.Barrier(len(people), timeout=30)

    def join(person: Account) -> None:
        with person.client() as client:
            start.wait()
            response = client.post(f"/api/v1/spaces/{space_id}/join")
        statuses[person.id] = response.status_code
        bodies[person.id] = response.json()
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) >= 1

    threads = [threading.Thread(target=join, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counts = Counter(statuses.values())
    assert set(counts) <= {200, 503}, counts
    for person_id, status in statuses.items():
        if status == 503:
            assert bodies[person_id]["error"]["code"] == "unavailable"  # type: ignore[index]
    present = participants(host, space_id)
    joined = {person_id for person_id, status in statuses.items() if status == 200}
    assert set(present) - {host.id} == joined
    space = httpx.get(f"{busy_server.url}/api/v1/spaces/{space_id}").json()
    assert space["participant_count"] == len(joined) + 1


def test_a_write_lock_held_elsewhere_too_long_gives_503_and_writes_nothing(
    busy_server: LiveServer,
) -> None:
    host = busy_server.signup()
    space_id = open_space(host)["id"]
    guest = busy_server.signup()
    locker = sqlite3.connect(_database_file(busy_server), isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with guest.client() as client:
            response = client.post(f"/api/v1/spaces/{space_id}/join")
        waited = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "unavailable"
        assert int(response.headers["Retry-After"]) >= 1
        assert WRITE_WAIT_S * 0.8 < waited < WRITE_WAIT_S + 5
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert guest.id not in participants(host, space_id)
    with guest.client() as client:
        assert client.post(f"/api/v1/spaces/{space_id}/join").status_code == 200
    assert guest.id in participants(host, space_id)
