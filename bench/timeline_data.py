"""Seeds a timeline benchmark database once and reuses it, on SQLite or PostgreSQL.

The data is generated from a fixed random seed, so SQLite and PostgreSQL hold the same users,
follows and posts (ids differ only by the moment each database was seeded):

- users: created over the USERS_SPAN_DAYS days before the follows start; each gets a bearer
  token `bench-token-<index>` (stored hashed, like real tokens) so any can be queried as.
- follows: each user follows `follows` others, chosen with a Zipf-like popularity (exponent
  ZIPF_EXPONENT over a random ranking of users), so a few accounts are followed by almost
  everyone and most by a handful; follower and following counts match the rows. One user in
  QUIET_EVERY ("quiet" users) follows only accounts drawn from the least active quarter.
- posts: spread evenly (with jitter) over the last POSTS_SPAN_DAYS days, so ids are time-ordered;
  each author is drawn with a Zipf-like activity over another random ranking, so a few users
  post thousands of times and many post a few times: timelines are not all alike.

A marker table (`bench_seed`, not part of the app schema) records the parameters; a database
whose marker matches is reused.
"""

import hashlib
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url

from townhall.ids import EPOCH_MS, id_for_time_ms
from townhall.storage.database import create_database_engine, normalize_url
from townhall.storage.migrate import upgrade_to_head
from townhall.storage.tables import AuthTokenRow, FollowRow, PostRow, UserRow

# Bump when the generated data changes shape, so cached databases are rebuilt.
DATA_VERSION = 2
DAY_MS = 86_400_000
POSTS_SPAN_DAYS = 30
USERS_SPAN_DAYS = 180
FOLLOWS_SPAN_DAYS = 60
ZIPF_EXPONENT = 0.8
# One user in QUIET_EVERY follows only accounts from the least active QUIET_POOL_FRACTION: the
# timelines a scan of recent posts serves worst, measured on their own.
QUIET_EVERY = 100
QUIET_POOL_FRACTION = 0.25
# Seeded rows use their own node id so they can never collide with ids a live server makes.
BENCH_NODE_ID = 1000
MAX_SEQUENCE = 4095
BATCH_ROWS = 50_000
# Post texts are drawn from these words.
VOCABULARY = (
    "space audio live listen speaker host mic stage talk chat music news tech open source "
    "python server sqlite postgres latency morning evening coffee weekend launch release "
    "question answer thread replay clip caption poll vote react hello world today tonight "
    "join us soon great idea thanks everyone welcome back community build ship test bench"
)

Row = tuple[Any, ...]
MARKER_DDL = "CREATE TABLE bench_seed (key VARCHAR(200) PRIMARY KEY, anchor_ms BIGINT)"


@dataclass(frozen=True)
class SeedParams:
    """What a seeded database holds; `key` names it in the marker table and the file name."""

    users: int
    posts: int
    follows: int
    seed: int

    @property
    def key(self) -> str:
        return f"u{self.users}-p{self.posts}-f{self.follows}-s{self.seed}-v{DATA_VERSION}"

    def check(self) -> None:
        if self.users < 2:
            raise SystemExit("--users must be at least 2")
        if not 0 <= self.follows < self.users:
            raise SystemExit("--follows must be 0 to users - 1")
        if self.posts < 0:
            raise SystemExit("--posts must not be negative")


@dataclass(frozen=True)
class SeededDatabase:
    url: str
    params: SeedParams
    anchor_ms: int
    reused: bool
    seconds: float


def anchor_now_ms() -> int:
    """Now, or later if the clock is so early that the oldest seeded id would precede EPOCH_MS."""
    oldest_days = POSTS_SPAN_DAYS + FOLLOWS_SPAN_DAYS + USERS_SPAN_DAYS + 1
    return max(int(time.time() * 1000), EPOCH_MS + oldest_days * DAY_MS)


def token_for(user_index: int) -> str:
    return f"bench-token-{user_index}"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _utc(unix_ms: int) -> datetime:
    return datetime.fromtimestamp(unix_ms / 1000, UTC)


def _spread_id(start_ms: int, span_ms: int, index: int, count: int) -> tuple[int, int]:
    """The (id, unix_ms) of item `index` of `count` spread evenly over a span; ids are unique."""
    unix_ms = start_ms + index * span_ms // max(count, 1)
    return id_for_time_ms(unix_ms, BENCH_NODE_ID, index % (MAX_SEQUENCE + 1)), unix_ms


def _random_ranks(rng: random.Random, count: int) -> list[int]:
    """rank[user index]: 0 for the most popular (or active), a random ranking."""
    ranks = list(range(count))
    rng.shuffle(ranks)
    return ranks


def _zipf_cum_weights(ranks: list[int]) -> list[float]:
    """Cumulative weights, by user index, of a Zipf-like law over the given ranking."""
    return list(accumulate(1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in ranks))


class Generator:
    """Produces the rows of every table, deterministically from the parameters."""

    def __init__(self, params: SeedParams, anchor_ms: int) -> None:
        self.params = params
        self.posts_start_ms = anchor_ms - POSTS_SPAN_DAYS * DAY_MS
        self.follows_start_ms = self.posts_start_ms - FOLLOWS_SPAN_DAYS * DAY_MS
        self.users_start_ms = self.follows_start_ms - USERS_SPAN_DAYS * DAY_MS
        rng = random.Random(params.seed)
        self.user_ids = [
            _spread_id(self.users_start_ms, USERS_SPAN_DAYS * DAY_MS, i, params.users)[0]
            for i in range(params.users)
        ]
        activity_ranks = _random_ranks(rng, params.users)
        self._activity = _zipf_cum_weights(activity_ranks)
        quiet_rank = params.users - max(2, int(params.users * QUIET_POOL_FRACTION))
        quiet_pool = [user for user, rank in enumerate(activity_ranks) if rank >= quiet_rank]
        self.quiet_users = list(range(0, params.users, QUIET_EVERY))
        self.followees = self._choose_followees(rng, set(self.quiet_users), quiet_pool)
        self.follower_counts = [0] * params.users
        for chosen in self.followees:
            for followee in chosen:
                self.follower_counts[followee] += 1
        self._post_seed = rng.getrandbits(64)

    def _choose_followees(
        self, rng: random.Random, quiet_users: set[int], quiet_pool: list[int]
    ) -> list[list[int]]:
        count = self.params.users
        cum_weights = _zipf_cum_weights(_random_ranks(rng, count))
        population = range(count)
        result: list[list[int]] = []
        for follower in range(count):
            chosen: dict[int, None] = {}
            if follower in quiet_users:
                candidates = [user for user in quiet_pool if user != follower]
                picked = rng.sample(candidates, min(self.params.follows, len(candidates)))
                chosen.update(dict.fromkeys(picked))
            while len(chosen) < self.params.follows:
                wanted = self.params.follows - len(chosen)
                for followee in rng.choices(population, cum_weights=cum_weights, k=wanted * 2):
                    if followee != follower and len(chosen) < self.params.follows:
                        chosen[followee] = None
            result.append(list(chosen))
        return result

    def users(self) -> Iterator[Row]:
        """(id, username, username_key, display_name, bio, password_hash, avatar_path,
        followers_count, following_count, is_admin, created_at)"""
        span_ms = USERS_SPAN_DAYS * DAY_MS
        for index, user_id in enumerate(self.user_ids):
            _, unix_ms = _spread_id(self.users_start_ms, span_ms, index, self.params.users)
            name = f"bench{index}"
            yield (
                user_id,
                name,
                name.lower(),
                f"Bench User {index}",
                "",
                "!bench-user-no-password",
                None,
                self.follower_counts[index],
                len(self.followees[index]),
                False,
                _utc(unix_ms),
            )

    def tokens(self) -> Iterator[Row]:
        """(id, user_id, token_hash, kind, created_at, revoked_at)"""
        created_at = _utc(self.posts_start_ms)
        for index, user_id in enumerate(self.user_ids):
            token_id = id_for_time_ms(self.posts_start_ms + index, BENCH_NODE_ID, 1)
            token_hash = hashlib.sha256(token_for(index).encode()).hexdigest()
            yield (token_id, user_id, token_hash, "bearer", created_at, None)

    def follows(self) -> Iterator[Row]:
        """(id, follower_id, followee_id, created_at)"""
        total = self.params.users * self.params.follows
        span_ms = FOLLOWS_SPAN_DAYS * DAY_MS
        index = 0
        for follower, chosen in enumerate(self.followees):
            for followee in chosen:
                follow_id, unix_ms = _spread_id(self.follows_start_ms, span_ms, index, total)
                index += 1
                yield (
                    follow_id,
                    self.user_ids[follower],
                    self.user_ids[followee],
                    _utc(unix_ms),
                )

    def posts(self) -> Iterator[Row]:
        """(id, author_id, text, space_id, reply_to, created_at), in id order."""
        rng = random.Random(self._post_seed)
        count = self.params.posts
        span_ms = POSTS_SPAN_DAYS * DAY_MS
        words = VOCABULARY.split()
        texts = [" ".join(rng.choices(words, k=rng.randint(4, 30))) for _ in range(4096)]
        slot_ms = span_ms // max(count, 1)
        population = range(self.params.users)
        done = 0
        while done < count:
            size = min(BATCH_ROWS, count - done)
            authors = rng.choices(population, cum_weights=self._activity, k=size)
            for offset, author in enumerate(authors):
                index = done + offset
                if slot_ms > 0:
                    unix_ms = self.posts_start_ms + index * slot_ms + rng.randrange(slot_ms)
                    post_id = id_for_time_ms(unix_ms, BENCH_NODE_ID, 0)
                else:
                    post_id, unix_ms = _spread_id(self.posts_start_ms, span_ms, index, count)
                body = f"{texts[rng.randrange(len(texts))]} #{index}"
                yield (post_id, self.user_ids[author], body, None, None, _utc(unix_ms))
            done += size


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class Progress:
    """Prints rows/s while a table loads, at most about once a second."""

    def __init__(self, table: str, total: int) -> None:
        self.table = table
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self._last_print = self.started

    def add(self, rows: int) -> None:
        self.done += rows
        now = time.perf_counter()
        if now - self._last_print >= 1.0 or self.done >= self.total:
            self._last_print = now
            rate = self.done / max(now - self.started, 1e-9)
            _log(f"  {self.table}: {self.done:,}/{self.total:,} rows ({rate:,.0f} rows/s)")


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise SystemExit("the SQLite benchmark needs a file database")
    return Path(database)


def _read_marker(engine: Engine) -> tuple[str, int] | None:
    with engine.connect() as conn:
        has_marker = engine.dialect.has_table(conn, "bench_seed")
        if not has_marker:
            return None
        row = conn.execute(text("SELECT key, anchor_ms FROM bench_seed")).first()
    return None if row is None else (str(row[0]), int(row[1]))


def _write_marker(conn: Any, params: SeedParams, anchor_ms: int) -> None:
    conn.execute(text(MARKER_DDL))
    conn.execute(
        text("INSERT INTO bench_seed (key, anchor_ms) VALUES (:key, :anchor_ms)"),
        {"key": params.key, "anchor_ms": anchor_ms},
    )


TABLES: Sequence[tuple[Any, Callable[[Generator], Iterator[Row]], Callable[[SeedParams], int]]] = (
    (UserRow.__table__, Generator.users, lambda p: p.users),
    (AuthTokenRow.__table__, Generator.tokens, lambda p: p.users),
    (FollowRow.__table__, Generator.follows, lambda p: p.users * p.follows),
    (PostRow.__table__, Generator.posts, lambda p: p.posts),
)


def _process(row: Row, processors: Sequence[Callable[[Any], Any] | None]) -> Row:
    return tuple(
        value if process is None or value is None else process(value)
        for value, process in zip(row, processors, strict=True)
    )


def seed_sqlite(url: str, params: SeedParams) -> SeededDatabase:
    """Reuses the file if its marker matches; otherwise builds it from scratch."""
    started = time.perf_counter()
    path = _sqlite_path(url)
    if path.exists():
        engine = create_database_engine(url)
        try:
            marker = _read_marker(engine)
        finally:
            engine.dispose()
        if marker is not None and marker[0] == params.key:
            _log(f"sqlite: reusing {path} ({params.key})")
            return SeededDatabase(url, params, marker[1], True, time.perf_counter() - started)
        _log(f"sqlite: {path} holds other data; rebuilding it")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    anchor_ms = anchor_now_ms()
    _log(f"sqlite: seeding {path} ({params.key})")
    engine = create_database_engine(url)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    generator = Generator(params, anchor_ms)
    # A plain engine for the load: no foreign key checks, no fsync; the file is rebuilt on error.
    loader = create_engine(url)

    @event.listens_for(loader, "connect")
    def _pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA cache_size=-262144")

    try:
        with loader.begin() as conn:
            for table, rows, total in TABLES:
                progress = Progress(table.name, total(params))
                # The dialect's own bind processors, so values are stored exactly as the app
                # stores them, without the cost of one dict per row through Core.
                processors = [column.type.bind_processor(loader.dialect) for column in table.c]
                statement = str(insert(table).compile(dialect=loader.dialect))
                for batch in _batches(rows(generator), BATCH_ROWS):
                    conn.exec_driver_sql(statement, [_process(row, processors) for row in batch])
                    progress.add(len(batch))
            _write_marker(conn, params, anchor_ms)
        with loader.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        loader.dispose()
        path.unlink(missing_ok=True)
        raise
    loader.dispose()
    return SeededDatabase(url, params, anchor_ms, False, time.perf_counter() - started)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_conninfo(url: str, database: str | None = None) -> str:
    """A libpq URL (no SQLAlchemy driver suffix), optionally for another database."""
    parsed = make_url(normalize_url(url)).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _pg_recreate_database(url: str) -> None:
    name = make_url(normalize_url(url)).database
    if not name or "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(_pg_conninfo(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _pg_database_exists(url: str) -> bool:
    name = make_url(normalize_url(url)).database
    with psycopg.connect(_pg_conninfo(url, "postgres"), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def seed_postgres(url: str, params: SeedParams) -> SeededDatabase:
    """Reuses the database if its marker matches; otherwise drops, recreates and COPYs it."""
    started = time.perf_counter()
    url = normalize_url(url)
    if _pg_database_exists(url):
        engine = create_database_engine(url)
        try:
            marker = _read_marker(engine)
        finally:
            engine.dispose()
        if marker is not None and marker[0] == params.key:
            _log(f"postgres: reusing {make_url(url).database} ({params.key})")
            return SeededDatabase(url, params, marker[1], True, time.perf_counter() - started)
    _log(f"postgres: seeding {make_url(url).database} ({params.key})")
    _pg_recreate_database(url)
    engine = create_database_engine(url)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    anchor_ms = anchor_now_ms()
    generator = Generator(params, anchor_ms)
    with psycopg.connect(_pg_conninfo(url)) as conn:
        # Rows are consistent by construction; skipping the foreign key triggers is what makes
        # COPY fast. Needs a superuser, which a benchmark database on localhost has.
        conn.execute("SET session_replication_role = replica")
        with conn.cursor() as cursor:
            for table, rows, total in TABLES:
                progress = Progress(table.name, total(params))
                columns = ", ".join(column.name for column in table.columns)
                with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for batch in _batches(rows(generator), BATCH_ROWS):
                        for row in batch:
                            copy.write_row(row)
                        progress.add(len(batch))
        conn.execute(MARKER_DDL)
        conn.execute(
            "INSERT INTO bench_seed (key, anchor_ms) VALUES (%s, %s)",
            (params.key, anchor_ms),
        )
        conn.commit()
    # What autovacuum would do on its own after a while: statistics and the visibility map.
    _log("postgres: VACUUM ANALYZE")
    with psycopg.connect(_pg_conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return SeededDatabase(url, params, anchor_ms, False, time.perf_counter() - started)
