"""Routes for a Space's life and for discovering Spaces."""

import contextlib
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from townhall.api.auth import CurrentUser, MaybeUser, Services
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.space_schemas import CreateSpaceBody, Space, SpacePage, UpdateSpaceBody, as_utc
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import WhoCanSpeak
from townhall.media.service import MediaElsewhere
from townhall.services import spaces
from townhall.services.json import to_json
from townhall.services.space_views import SpaceView

router = APIRouter(prefix="/api/v1/spaces", tags=["spaces"], responses=ERROR_RESPONSES)


async def _record_if_asked(request: Request, view: SpaceView) -> None:
    """A recorded Space's recording starts when it goes live, before anyone connects."""
    if view.state == "live" and view.recording:
        # Another node may own the room already (it opened it first): it records, then.
        with contextlib.suppress(MediaElsewhere):
            await request.app.state.container.media.open_room(view.id)


@router.post("", status_code=201, response_model=Space)
async def create_space(
    body: CreateSpaceBody, principal: CurrentUser, ctx: Services, request: Request
) -> Any:
    view = await run_in_threadpool(
        spaces.do_create_space,
        ctx,
        principal.user_id,
        body.title,
        WhoCanSpeak(body.who_can_speak),
        body.recording,
        body.captions,
        as_utc(body.scheduled_start),
        [topic.strip() for topic in body.topic_ids if topic.strip()],
        body.lang,
    )
    await _record_if_asked(request, view)
    return to_json(view)


@router.get("", response_model=SpacePage)
def list_spaces(
    viewer: MaybeUser,
    ctx: Services,
    state: SpaceState = SpaceState.LIVE,
    q: str | None = Query(default=None, max_length=100),
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    views, next_cursor = spaces.list_spaces(
        ctx, viewer.user_id if viewer else None, state, q.strip() if q else None, cursor, limit
    )
    return {"data": to_json(views), "next_cursor": next_cursor}


@router.get("/{space_id}", response_model=Space)
def get_space(space_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    parsed = spaces.parse_space_id(space_id)
    return to_json(spaces.get_space(ctx, parsed, viewer.user_id if viewer else None))


@router.patch("/{space_id}", response_model=Space)
def update_space(
    space_id: str, body: UpdateSpaceBody, principal: CurrentUser, ctx: Services
) -> Any:
    view = spaces.do_update_space(
        ctx,
        principal.user_id,
        spaces.parse_space_id(space_id),
        body.title,
        WhoCanSpeak(body.who_can_speak) if body.who_can_speak else None,
        body.captions,
        body.recording,
    )
    return to_json(view)


@router.delete("/{space_id}", status_code=204)
def cancel_space(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    spaces.do_cancel_space(ctx, principal.user_id, spaces.parse_space_id(space_id))
    return Response(status_code=204)


@router.post("/{space_id}/start", response_model=Space)
async def start_space(
    space_id: str, principal: CurrentUser, ctx: Services, request: Request
) -> Any:
    view = await run_in_threadpool(
        spaces.do_start_space, ctx, principal.user_id, spaces.parse_space_id(space_id)
    )
    await _record_if_asked(request, view)
    return to_json(view)


@router.post("/{space_id}/end", response_model=Space)
def end_space(space_id: str, principal: CurrentUser, ctx: Services) -> Any:
    return to_json(spaces.do_end_space(ctx, principal.user_id, spaces.parse_space_id(space_id)))


@router.post("/{space_id}/reminders", status_code=204)
def set_reminder(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    spaces.do_set_reminder(ctx, principal.user_id, spaces.parse_space_id(space_id))
    return Response(status_code=204)
