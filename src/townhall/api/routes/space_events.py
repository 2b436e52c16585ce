"""A Space's event stream: state events by seq with resume, plus ephemeral ones.

```
 connect(?since=N) -> subscribe to space:{id} first (nothing is missed meanwhile)
                   -> send stored events seq > N (or one `resync` if too far behind)
                   -> forward live events, skipping seq already sent and filling gaps
                      from the store when commits publish out of order
```
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from townhall.api.auth import services_of
from townhall.api.routes.events import (
    CLOSE_TOO_SLOW,
    accept_authenticated,
    serve_until_disconnect,
)
from townhall.container import Container
from townhall.domain.errors import DomainError, NotFound
from townhall.realtime.bus import Subscription
from townhall.realtime.frames import text_of
from townhall.services import spaces
from townhall.services.context import ServiceContext
from townhall.services.space_log import frame, space_channel
from townhall.types import UserId

router = APIRouter(tags=["events"])

CLOSE_NOT_FOUND = 4404


def _control(kind: str, space_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return frame(kind, space_id, None, datetime.now(UTC), data)


class _Stream:
    """Sends one client its frames in seq order, exactly once."""

    def __init__(
        self,
        websocket: WebSocket,
        ctx: ServiceContext,
        viewer: UserId,
        space_id: int,
        last_seq: int,
    ) -> None:
        self.websocket = websocket
        self.ctx = ctx
        self.viewer = viewer
        self.space_id = space_id
        self.last_seq = last_seq

    async def send(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if seq is None:
            await self.websocket.send_text(text_of(message))
            return
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._fill_gap()
            if seq <= self.last_seq:
                return
        await self.websocket.send_text(text_of(message))
        self.last_seq = seq

    async def _fill_gap(self) -> None:
        backlog = await run_in_threadpool(
            spaces.events_since, self.ctx, self.viewer, self.space_id, self.last_seq
        )
        await self.replay(backlog)

    async def replay(self, backlog: spaces.Backlog) -> None:
        if backlog.frames is None:
            await self.websocket.send_json(
                _control("resync", self.space_id, {"seq": backlog.latest_seq})
            )
            self.last_seq = backlog.latest_seq
            return
        for message in backlog.frames:
            seq = message["seq"]
            assert isinstance(seq, int)
            if seq > self.last_seq:
                await self.websocket.send_text(text_of(message))
                self.last_seq = seq

    async def forward(self, subscription: Subscription) -> None:
        async for message in subscription:
            await self.send(message)
        if subscription.overflowed:
            await self.websocket.send_json(
                _control("resync", self.space_id, {"seq": self.last_seq})
            )
            await self.websocket.close(CLOSE_TOO_SLOW, "too far behind; reconnect with since")


def _since(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("since")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound("That seq is not one this Space gave out.", code="invalid_since")
    return int(raw)


@router.websocket("/api/v1/spaces/{space_id}/events")
async def space_events(websocket: WebSocket, space_id: str) -> None:
    principal = await accept_authenticated(websocket)
    if principal is None:
        return
    ctx = services_of(websocket)
    container: Container = websocket.app.state.container
    try:
        parsed = spaces.parse_space_id(space_id)
        since = _since(websocket)
    except DomainError as exc:
        await websocket.close(CLOSE_NOT_FOUND, exc.message[:120])
        return
    with container.bus.subscribe(space_channel(parsed)) as subscription:
        try:
            backlog = await run_in_threadpool(
                spaces.events_since, ctx, principal.user_id, parsed, since
            )
        except DomainError as exc:
            await websocket.close(CLOSE_NOT_FOUND, exc.message[:120])
            return
        is_host = backlog.host_id == principal.user_id
        stream = _Stream(websocket, ctx, principal.user_id, parsed, since or 0)
        if since is None:
            stream.last_seq = backlog.latest_seq
        await websocket.send_json(
            _control(
                "ready", parsed, {"seq": backlog.latest_seq, "user_id": str(principal.user_id)}
            )
        )
        if since is not None:
            await stream.replay(backlog)
        container.presence.connected(parsed, principal.user_id)
        try:
            await serve_until_disconnect(websocket, stream.forward(subscription))
        finally:
            container.presence.disconnected(parsed, principal.user_id, is_host)
