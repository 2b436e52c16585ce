"""Route dependencies that count a request against one of settings.rate_limits' names.

Declared on a route as `dependencies=[rate_limited("post")]`: the route stays a thin call
of its use case, and a refused request is a 429 with Retry-After before any work is done.
"""

import hmac
from typing import Any

import anyio.from_thread
from fastapi import Depends, Request

from townhall.api.auth import CurrentUser, services_of
from townhall.api.client_ip import client_ip
from townhall.config import RATE_LIMIT_NAMES
from townhall.services.ratelimit import RateLimitCounter

COUNTED_BY_PEER = "X-Townhall-Counted"
"""Set by a node forwarding a request it has counted: the deployment's peer key."""


def rate_limited(name: str, per: str = "user") -> Any:
    """Counts the request per caller (`per="user"`, after authentication) and per address.

    `per="anonymous"` counts per address only (signup); login counts per username in
    its route, since no one is authenticated yet.
    """
    if name not in RATE_LIMIT_NAMES:
        raise ValueError(f"no rate limit named {name!r}")

    if per == "user":
        # FastAPI resolves CurrentUser once per request: the route's own use costs nothing.
        async def by_user(request: Request, principal: CurrentUser) -> None:
            await _count(request, name, str(principal.user_id))

        return Depends(by_user)

    async def by_address(request: Request) -> None:
        await _count(request, name, None)

    return Depends(by_address)


async def counted_by_peer(request: Request, limits: RateLimitCounter) -> bool:
    """True for a request another node of this deployment counted before forwarding it."""
    presented = request.headers.get(COUNTED_BY_PEER)
    if not presented:
        return False
    key = await limits.peer_key()
    return key is not None and hmac.compare_digest(presented.encode(), key.encode())


async def _count(request: Request, name: str, user_key: str | None) -> None:
    ctx = services_of(request)
    if await counted_by_peer(request, ctx.rate_limits):
        return
    await ctx.rate_limits.count(name, user_key, client_ip(request, ctx.settings.trusted_proxies))


def check_login(request: Request, username_key: str) -> None:
    """Login counts per username tried and per address, successes and failures alike.

    Called from the (sync) login route's worker thread, so it hands the count to the loop.
    """
    anyio.from_thread.run(_count, request, "login", f"name:{username_key[:64]}")
