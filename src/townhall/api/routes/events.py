"""The user-level WebSocket: notifications and other personal events as they happen."""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from townhall.api.auth import same_origin, services_of, websocket_token
from townhall.api.errors import database_unavailable
from townhall.domain.errors import DomainError
from townhall.realtime.bus import EventBus, Subscription
from townhall.realtime.fanout import MAX_BUFFERED_BYTES
from townhall.realtime.frames import shared, text_of
from townhall.realtime.raw_socket import raw_socket_of
from townhall.services import accounts
from townhall.services.accounts import Principal
from townhall.services.json import format_time
from townhall.services.notifications import SESSION_ENDED, user_channel

router = APIRouter(tags=["events"])

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_TRY_AGAIN_LATER = 1013
"""RFC 6455's "try again later": the database is down; clients reconnect as after a drop."""

log = logging.getLogger("townhall.api")


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    raw = raw_socket_of(websocket.scope)
    too_slow = False
    async for message in subscription:
        if message.get("type") == SESSION_ENDED:
            # An admin suspended this account: its tokens are revoked, so its sockets go too.
            await _close_unauthenticated(websocket, raw)
            return
        if raw is None:
            await websocket.send_text(text_of(message))
        elif raw.write(shared(message).wire()) > MAX_BUFFERED_BYTES:
            too_slow = True
            break
    if not (too_slow or subscription.overflowed):
        return
    # This client fell too far behind: tell it to refetch, rather than silently skip events.
    resync = shared({"type": "resync", "space_id": None, "seq": None, "at": _now(), "data": {}})
    if raw is not None:
        raw.write(resync.wire())
        raw.close(CLOSE_TOO_SLOW, "too far behind; reconnect")
        return
    await websocket.send_text(resync.text())
    await websocket.close(CLOSE_TOO_SLOW, "too far behind; reconnect")


async def _close_unauthenticated(websocket: WebSocket, raw: Any) -> None:
    reason = "your session has ended"
    if raw is not None:
        raw.close(CLOSE_UNAUTHENTICATED, reason)
    else:
        await websocket.close(CLOSE_UNAUTHENTICATED, reason)


def _now() -> str:
    return format_time(datetime.now(UTC))


async def accept_authenticated(websocket: WebSocket) -> Principal | None:
    """Accepts the socket and finds who is on it; otherwise closes it (4401/4403): None."""
    ctx = services_of(websocket)
    await websocket.accept()
    try:
        credentials = websocket_token(websocket)
        if credentials is None:
            await websocket.close(CLOSE_UNAUTHENTICATED, "log in first")
            return None
        token, from_cookie = credentials
        if from_cookie and not same_origin(websocket):
            await websocket.close(CLOSE_FORBIDDEN, "cross-origin")
            return None
        return await run_in_threadpool(accounts.authenticate, ctx, token)
    except DomainError as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, exc.message[:120])
        return None
    except Exception as exc:
        if not await close_if_database_down(websocket, exc):
            raise
        return None


async def close_if_database_down(websocket: WebSocket, exc: Exception) -> bool:
    """The WebSocket's answer to a database that is down: 1013, not a 1011 and a traceback."""
    if not database_unavailable(exc):
        return False
    log.warning("1013 on %s: database unavailable: %s", websocket.url.path, type(exc).__name__)
    await websocket.close(CLOSE_TRY_AGAIN_LATER, "The database is busy; try again.")
    return True


async def serve_until_disconnect(websocket: WebSocket, pump: Coroutine[Any, Any, None]) -> None:
    """Runs `pump` (server -> client) until the client goes away, then stops it."""
    task = asyncio.create_task(pump)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@router.websocket("/api/v1/events")
async def user_events(websocket: WebSocket) -> None:
    principal = await accept_authenticated(websocket)
    if principal is None:
        return
    bus: EventBus = websocket.app.state.container.bus
    with bus.subscribe(user_channel(principal.user_id)) as subscription:
        await websocket.send_json(
            {
                "type": "ready",
                "space_id": None,
                "seq": None,
                "at": _now(),
                "data": {"user_id": str(principal.user_id)},
            }
        )
        await serve_until_disconnect(websocket, _forward(websocket, subscription))
