"""Engine creation: SQLite in WAL mode by default, PostgreSQL when the URL says so."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from townhall.storage.write_gate import WriterGate

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long SQLite waits for a lock held by another connection, unless the caller says."""

POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 20


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_database_engine(url: str, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, busy_timeout_ms)
    return create_engine(
        url, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_MAX_OVERFLOW, pool_pre_ping=True
    )


def create_writer_gate(engine: Engine, max_waiting: int, max_wait_s: float) -> WriterGate:
    """SQLite has one writer at a time, so writers queue here one by one instead of in its
    busy handler; PostgreSQL takes concurrent writers, bounded by the connection pool."""
    sqlite = engine.dialect.name == "sqlite"
    capacity = 1 if sqlite else POSTGRES_POOL_SIZE + POSTGRES_MAX_OVERFLOW
    return WriterGate(capacity=capacity, max_waiting=max_waiting, max_wait_s=max_wait_s)


def _create_sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=20,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so we can say BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades
        # fails at once with SQLITE_BUSY under WAL instead of waiting its turn.
        if conn.get_execution_options().get("townhall_write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
