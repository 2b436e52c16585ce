"""The user-level WebSocket: notifications and other personal events as they happen."""

import asyncio
import contextlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from townhall.api.auth import services_of, websocket_token
from townhall.domain.errors import DomainError
from townhall.realtime.bus import EventBus, Subscription
from townhall.services import accounts
from townhall.services.json import format_time
from townhall.services.notifications import user_channel

router = APIRouter(tags=["events"])

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408


def same_origin(websocket: WebSocket) -> bool:
    """A cookie-authenticated socket must come from our own pages (no cross-site hijacking)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: browsers always send Origin on WebSockets
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    async for message in subscription:
        await websocket.send_json(message)
    if subscription.overflowed:
        # This client fell too far behind: tell it to refetch, rather than silently skip events.
        await websocket.send_json(
            {"type": "resync", "space_id": None, "seq": None, "at": _now(), "data": {}}
        )
        await websocket.close(CLOSE_TOO_SLOW, "too far behind; reconnect")


def _now() -> str:
    return format_time(datetime.now(UTC))


@router.websocket("/api/v1/events")
async def user_events(websocket: WebSocket) -> None:
    ctx = services_of(websocket)
    await websocket.accept()
    try:
        credentials = websocket_token(websocket)
        if credentials is None:
            await websocket.close(CLOSE_UNAUTHENTICATED, "log in first")
            return
        token, from_cookie = credentials
        if from_cookie and not same_origin(websocket):
            await websocket.close(CLOSE_FORBIDDEN, "cross-origin")
            return
        principal = await run_in_threadpool(accounts.authenticate, ctx, token)
    except DomainError as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, exc.message[:120])
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
        pump = asyncio.create_task(_forward(websocket, subscription))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
