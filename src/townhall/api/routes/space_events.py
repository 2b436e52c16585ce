"""A Space's event stream: state events by seq with resume, plus ephemeral ones.

```
 connect(?since=N) -> join the Space's broadcaster first (it holds frames for us meanwhile)
                   -> send stored events seq > N (or one `resync` if too far behind)
                   -> go live: the held frames, then live ones, skipping seq already sent
                      and filling gaps from the store when commits publish out of order
```

The broadcaster (realtime/fanout.py) writes each batch of frames to every socket of the
Space at once: straight to the connection when the server offers the raw write
(api/ws_protocol.py), otherwise through ASGI.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from townhall.api.auth import services_of
from townhall.api.routes.events import (
    accept_authenticated,
    close_if_database_down,
    serve_until_disconnect,
)
from townhall.container import Container
from townhall.domain.errors import DomainError, NotFound
from townhall.realtime.fanout import FanoutHub, QueueSink, RawSink, Sink
from townhall.realtime.frames import EncodedOnce, shared, text_of
from townhall.realtime.raw_socket import raw_socket_of
from townhall.services import spaces
from townhall.services.context import ServiceContext
from townhall.services.space_log import frame, space_channel

router = APIRouter(tags=["events"])

CLOSE_NOT_FOUND = 4404


def _control(kind: str, space_id: int, data: dict[str, Any]) -> EncodedOnce:
    return shared(frame(kind, space_id, None, datetime.now(UTC), data))


def _resync(space_id: int, seq: int) -> EncodedOnce:
    return _control("resync", space_id, {"seq": seq})


async def _stored_after(
    ctx: ServiceContext, space_id: int, after: int
) -> tuple[Sequence[EncodedOnce] | None, int]:
    """The Space's state events after a seq, for every socket alike (no viewer checks)."""
    backlog = await run_in_threadpool(spaces.events_since, ctx, None, space_id, after)
    stored = None if backlog.frames is None else [shared(f) for f in backlog.frames]
    return stored, backlog.latest_seq


def fanout_of(websocket: WebSocket) -> FanoutHub:
    """The app's broadcasters, made with the first socket (they need the running loop)."""
    state = websocket.app.state
    container: Container = state.container
    hub: FanoutHub | None = getattr(state, "space_fanout", None)
    if hub is None or hub.bus is not container.bus:
        hub = FanoutHub(container.bus)
        state.space_fanout = hub
    return hub


async def _replay(websocket: WebSocket, space_id: int, backlog: spaces.Backlog, since: int) -> int:
    """Sends what a resuming client missed; the seq it has afterwards."""
    if backlog.frames is None:
        await websocket.send_text(_resync(space_id, backlog.latest_seq).text())
        return backlog.latest_seq
    last_seq = since
    for message in backlog.frames:
        seq = message["seq"]
        assert isinstance(seq, int)
        if seq > last_seq:
            await websocket.send_text(text_of(message))
            last_seq = seq
    return last_seq


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
    raw = raw_socket_of(websocket.scope)
    sink: Sink = (
        RawSink(raw) if raw is not None else QueueSink(websocket.send_text, websocket.close)
    )
    # Join before reading the store, so no event falls between the read and the stream.
    member = fanout_of(websocket).join(
        space_channel(parsed), sink, partial(_stored_after, ctx, parsed), partial(_resync, parsed)
    )
    detached = False
    try:
        try:
            backlog = await run_in_threadpool(
                spaces.events_since, ctx, principal.user_id, parsed, since
            )
        except DomainError as exc:
            await websocket.close(CLOSE_NOT_FOUND, exc.message[:120])
            return
        except Exception as exc:
            if not await close_if_database_down(websocket, exc):
                raise
            return
        is_host = backlog.host_id == principal.user_id
        ready = {"seq": backlog.latest_seq, "user_id": str(principal.user_id)}
        await websocket.send_text(_control("ready", parsed, ready).text())
        if since is None:
            last_seq = backlog.latest_seq
        else:
            last_seq = await _replay(websocket, parsed, backlog, since)
        member.go_live(last_seq)
        container.presence.connected(parsed, principal.user_id)
        # A suspension closes it, on whichever node it is (services/session_sync.py).
        container.user_sockets.add(principal.user_id, sink)
        if raw is not None:
            # From here the broadcaster writes and the server's protocol reads: nothing
            # needs this call stack until the socket goes, so it returns (see ws_protocol).
            def gone() -> None:
                container.user_sockets.remove(principal.user_id, sink)
                container.presence.disconnected(parsed, principal.user_id, is_host)
                member.leave()

            raw.detach(gone)
            detached = True
            return
        assert isinstance(sink, QueueSink)  # without the raw write, this route sends
        try:
            await serve_until_disconnect(websocket, sink.run())
        finally:
            container.user_sockets.remove(principal.user_id, sink)
            container.presence.disconnected(parsed, principal.user_id, is_host)
    finally:
        if not detached:
            member.leave()
