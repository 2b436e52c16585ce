"""Shared fixtures: a real server on loopback, over SQLite and over PostgreSQL."""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.harness import Account, LiveServer, make_settings, serve_in_thread

POSTGRES_ADMIN_URL = os.environ.get(
    "TOWNHALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"townhall_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The API suite runs once against SQLite and once against PostgreSQL."""
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    settings = make_settings(data_dir, database_url)
    yield from serve_in_thread(settings)


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One SQLite-backed server for tests that need not run on both engines (e.g. browser)."""
    settings = make_settings(tmp_path_factory.mktemp("server-sqlite-only"))
    yield from serve_in_thread(settings)


@pytest.fixture
def alice(server: LiveServer) -> Account:
    return server.signup()


@pytest.fixture
def bob(server: LiveServer) -> Account:
    return server.signup()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in this
    thread for the rest of the session, which would break tests that call asyncio.run."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
