"""Ended sessions across nodes: a logout or a suspension reaches every node's token cache
(and, for a suspension, the user's open sockets) at once, not `token_cache_s` later.

```
 logout / suspend commits ─> SESSIONS_CHANNEL {"sessions.ended", user, token hashes,
                                               close_sockets} ─> every node (this one too):
                               forget the hashes in ctx.tokens; close the user's sockets
```

Each node trusts a token it looked up for `settings.token_cache_s` (services/accounts.py).
Without this message a suspended user's requests and open sockets would still work on
the nodes that had cached their token. The bus is at-most-once: a node cut off from Redis
at that moment still drops the token when its cached entry expires, as before.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from townhall.realtime.bus import EventBus, Subscription
from townhall.services.expiring_cache import ExpiringCache
from townhall.services.principal import Principal
from townhall.storage.uow import UnitOfWork

log = logging.getLogger("townhall.accounts")

SESSIONS_CHANNEL = "nodes:sessions"
SESSIONS_ENDED = "sessions.ended"


def end_everywhere(
    uow: UnitOfWork, user_id: int, token_hashes: Iterable[str], close_sockets: bool
) -> None:
    """Tells every node, once the transaction commits, that these tokens are revoked."""
    uow.emit(
        SESSIONS_CHANNEL,
        {
            "type": SESSIONS_ENDED,
            "user_id": str(user_id),
            "token_hashes": list(token_hashes),
            "close_sockets": close_sockets,
        },
    )


class SessionSync:
    """Applies every node's ended sessions to this node's token cache and sockets."""

    def __init__(
        self,
        bus: EventBus,
        tokens: ExpiringCache[str, Principal],
        close_sockets: Callable[[int], object],
    ) -> None:
        self._bus = bus
        self._tokens = tokens
        self._close_sockets = close_sockets
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # Subscribed before start() returns: nothing published from here on is missed.
        subscription = self._bus.subscribe(SESSIONS_CHANNEL)
        self._task = asyncio.create_task(self._listen(subscription), name="session-sync")

    async def _listen(self, subscription: Subscription) -> None:
        while True:
            with subscription:
                async for message in subscription:
                    try:
                        self._apply(message)
                    except (KeyError, TypeError, ValueError):
                        log.warning("ignored a malformed sessions message: %r", message)
            if not subscription.overflowed:
                return
            # What was dropped expires from the cache within token_cache_s, as before.
            log.warning("ended sessions came faster than applied; some were dropped")
            subscription = self._bus.subscribe(SESSIONS_CHANNEL)

    def _apply(self, message: dict[str, Any]) -> None:
        if message.get("type") != SESSIONS_ENDED:
            return
        user_id = int(message["user_id"])
        for token_hash in message["token_hashes"]:
            self._tokens.revoke(str(token_hash))
        if message.get("close_sockets"):
            self._close_sockets(user_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
