"""Settings, read once from TOWNHALL_* environment variables with sensible defaults."""

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from exc


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; see docs/operations.md for each setting."""

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    node_id: int = 0
    max_body_bytes: int = 64 * 1024
    max_avatar_bytes: int = 2 * 1024 * 1024
    login_failures_per_minute: int = 10
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    cookie_secure: bool = False
    min_followers_to_host: int = 0
    max_cohosts: int = 2
    max_speakers: int = 10
    host_grace_s: float = 120.0
    """How long a live Space waits for its host's connection to come back before ending."""
    participant_grace_s: float = 30.0
    """How long someone whose last connection dropped stays in the Space."""
    db_write_wait_s: float = 5.0
    """Longest a write waits for its turn (queued behind this process's writers, or for a
    lock another connection holds) before the request gets 503 with Retry-After."""
    db_max_waiting_writers: int = 32
    """Writes that may queue at once; one more gets 503 at once."""
    token_cache_s: float = 5.0
    """How long a node trusts a token it looked up; a logout on another node takes effect
    there within this time (0: look every token up)."""
    # argon2id cost; the defaults are RFC 9106's low-memory profile. Tests lower them.
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'townhall.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def hls_dir(self) -> Path:
        return self.data_dir / "hls"

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings() -> Settings:
    return Settings(
        data_dir=Path(os.environ.get("TOWNHALL_DATA_DIR", "var")),
        database_url=os.environ.get("TOWNHALL_DATABASE_URL", ""),
        redis_url=os.environ.get("TOWNHALL_REDIS_URL", ""),
        node_id=_env_int("TOWNHALL_NODE_ID", 0),
        max_body_bytes=_env_int("TOWNHALL_MAX_BODY_BYTES", 64 * 1024),
        login_failures_per_minute=_env_int("TOWNHALL_LOGIN_FAILURES_PER_MINUTE", 10),
        trusted_proxies=_env_list("TOWNHALL_TRUSTED_PROXIES"),
        cookie_secure=os.environ.get("TOWNHALL_COOKIE_SECURE", "") in ("1", "true", "yes"),
        min_followers_to_host=_env_int("TOWNHALL_MIN_FOLLOWERS_TO_HOST", 0),
        max_cohosts=_env_int("TOWNHALL_MAX_COHOSTS", 2),
        max_speakers=_env_int("TOWNHALL_MAX_SPEAKERS", 10),
        host_grace_s=_env_int("TOWNHALL_HOST_GRACE_S", 120),
        participant_grace_s=_env_int("TOWNHALL_PARTICIPANT_GRACE_S", 30),
        db_write_wait_s=_env_float("TOWNHALL_DB_WRITE_WAIT_S", 5.0),
        db_max_waiting_writers=_env_int("TOWNHALL_DB_MAX_WAITING_WRITERS", 32),
        token_cache_s=_env_float("TOWNHALL_TOKEN_CACHE_S", 5.0),
        password_time_cost=_env_int("TOWNHALL_PASSWORD_TIME_COST", 3),
        password_memory_kib=_env_int("TOWNHALL_PASSWORD_MEMORY_KIB", 64 * 1024),
    )
