"""The named rate limits counted in Redis, so several nodes share one allowance.

Counted per node, a client spread over N nodes behind a balancer would get N times each
limit: a spammer's retries land on whichever node is least busy. Here every node counts
into the same sorted set per (limit, user) and (limit, address), in one Lua script, so a
hit is checked and counted on both sides at once, against Redis's clock.

A request one node forwards to another (signalling, to a Space's media owner) was counted
by the node it reached, under the client's address. It carries the deployment's peer key,
a secret the nodes keep in Redis, so the owner does not count it again under the
forwarding node's address and the same user.

Redis is a helper here, not a gatekeeper: while it cannot be reached, each node goes on
counting on its own (the in-memory limits), says so in the log once, and shares again
as soon as Redis answers.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
import uuid
from collections.abc import Callable
from itertools import count

from redis.asyncio import Redis
from redis.exceptions import RedisError

from townhall.config import RateLimits
from townhall.domain.errors import RateLimited
from townhall.services.ratelimit import NamedRateLimits

KEY_PREFIX = "townhall:rl:"
PEER_KEY = KEY_PREFIX + "peer-key"
PEER_KEY_REREAD_S = 60.0
"""How long a node trusts its copy of the peer key (a flushed Redis gets a new one)."""
TIMEOUT_S = 0.25
"""A request waits at most this for Redis before it is counted on this node instead."""

log = logging.getLogger("townhall.ratelimit")

# KEYS: one sorted set per side; ARGV: window (µs), a unique member, then each key's limit.
# Returns 0 when the hit was allowed (and counted on every side), else µs until it would be.
_SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then
  return wait
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
return 0
"""


class SharedRateLimits:
    """settings.rate_limits counted in Redis for every node; the same API as NamedRateLimits."""

    def __init__(
        self,
        settings: RateLimits,
        redis_url: str,
        fallback: NamedRateLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._redis = Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self._script = self._redis.register_script(_SLIDING_WINDOW)
        self._fallback = fallback or NamedRateLimits(settings, monotonic)
        self._members = count()
        self._node = uuid.uuid4().hex[:8]
        self._shared = True
        """False while Redis is unreachable: said in the log when it changes, not per hit."""
        self._monotonic = monotonic
        self._peer_key: tuple[str, float] | None = None

    async def count(self, name: str, user_key: str | None, ip: str | None) -> None:
        """Counts one `name` hit for the user and the address; RateLimited when over either."""
        limit = self._settings.of(name)  # KeyError for a name that is not a limit
        sides = [
            (f"{KEY_PREFIX}{name}:{side}:{key}", allowed)
            for side, key, allowed in (("u", user_key, limit.per_user), ("ip", ip, limit.per_ip))
            if allowed and key is not None
        ]
        if not sides:
            return
        try:
            wait_us = await self._script(
                keys=[key for key, _ in sides],
                args=[
                    int(limit.window_s * 1_000_000),
                    f"{self._node}:{next(self._members)}",
                    *[allowed for _, allowed in sides],
                ],
            )
        except (RedisError, OSError) as exc:
            self._set_shared(False, exc)
            await self._fallback.count(name, user_key, ip)
            return
        self._set_shared(True)
        if wait_us:
            wait_s = max(1, math.ceil(int(wait_us) / 1_000_000))
            raise RateLimited(
                f"Too many {name.replace('_', ' ')} requests; try again in {wait_s} s.",
                retry_after_s=wait_s,
            )

    async def peer_key(self) -> str | None:
        """The secret every node of this deployment shares; None while Redis is away (a
        forwarded hit is then counted again, as if it had not been forwarded)."""
        now = self._monotonic()
        if self._peer_key is not None and now - self._peer_key[1] < PEER_KEY_REREAD_S:
            return self._peer_key[0]
        try:
            await self._redis.set(PEER_KEY, secrets.token_urlsafe(32), nx=True)
            stored = await self._redis.get(PEER_KEY)
        except (RedisError, OSError):
            return None
        if stored is None:
            return None
        key = stored.decode() if isinstance(stored, bytes) else str(stored)
        self._peer_key = (key, now)
        return key

    def _set_shared(self, shared: bool, exc: Exception | None = None) -> None:
        if shared == self._shared:
            return
        self._shared = shared
        if shared:
            log.info("rate limits: Redis answers again; limits are shared by every node")
        else:
            log.warning(
                "rate limits: Redis is unreachable (%s); counting on this node only meanwhile",
                type(exc).__name__,
            )

    async def close(self) -> None:
        await self._redis.aclose()
