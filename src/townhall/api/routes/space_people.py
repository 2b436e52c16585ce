"""Routes for the people in a Space: joining, the stage, requests, invites and moderation."""

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from townhall.api.auth import CurrentUser, MaybeUser, Services
from townhall.api.rate_limits import rate_limited
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import parse_id
from townhall.api.space_schemas import (
    InviteBody,
    Participant,
    ParticipantList,
    RemoveBody,
    RoleBody,
)
from townhall.domain.errors import NotFound
from townhall.domain.spaces.roles import Role
from townhall.services import space_stage
from townhall.services.json import to_json
from townhall.services.spaces import parse_space_id

router = APIRouter(
    prefix="/api/v1/spaces/{space_id}", tags=["space people"], responses=ERROR_RESPONSES
)


def _user_id(raw: str) -> int:
    parsed = parse_id(raw)
    if parsed is None or parsed < 0:
        raise NotFound("No such user.", code="user_not_found")
    return parsed


@router.post("/join", response_model=Participant, dependencies=[rate_limited("join")])
async def join(space_id: str, principal: CurrentUser, ctx: Services) -> Any:
    """Async, with the use case in a worker thread: FastAPI validates the response of a
    sync route in a second worker-thread hop, which a join storm pays on every join."""
    parsed = parse_space_id(space_id)
    view = await run_in_threadpool(space_stage.do_join, ctx, principal.user_id, parsed)
    return to_json(view)


@router.post("/leave", status_code=204)
def leave(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_leave(ctx, principal.user_id, parse_space_id(space_id))
    return Response(status_code=204)


@router.get("/participants", response_model=ParticipantList)
def participants(space_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    views = space_stage.list_participants(
        ctx, viewer.user_id if viewer else None, parse_space_id(space_id)
    )
    return {"data": to_json(views)}


@router.post("/speak-requests", status_code=201, dependencies=[rate_limited("speak_request")])
def raise_hand(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_raise_hand(ctx, principal.user_id, parse_space_id(space_id))
    return Response(status_code=201)


@router.delete("/speak-requests/me", status_code=204)
def lower_hand(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_lower_hand(ctx, principal.user_id, parse_space_id(space_id))
    return Response(status_code=204)


@router.post("/speak-requests/{user_id}/approve", response_model=Participant)
def approve(space_id: str, user_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = space_stage.do_answer_request(
        ctx, principal.user_id, parse_space_id(space_id), _user_id(user_id), approve=True
    )
    return to_json(view)


@router.post("/speak-requests/{user_id}/deny", status_code=204)
def deny(space_id: str, user_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_answer_request(
        ctx, principal.user_id, parse_space_id(space_id), _user_id(user_id), approve=False
    )
    return Response(status_code=204)


@router.post("/invites", status_code=201)
def invite(space_id: str, body: InviteBody, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_invite(
        ctx, principal.user_id, parse_space_id(space_id), _user_id(body.user_id), Role(body.role)
    )
    return Response(status_code=201)


@router.post("/invites/accept", response_model=Participant)
def accept_invite(space_id: str, principal: CurrentUser, ctx: Services) -> Any:
    return to_json(space_stage.do_accept_invite(ctx, principal.user_id, parse_space_id(space_id)))


@router.post("/invites/decline", status_code=204)
def decline_invite(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_stage.do_decline_invite(ctx, principal.user_id, parse_space_id(space_id))
    return Response(status_code=204)


@router.post("/participants/me/mute", response_model=Participant)
def mute_me(space_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = space_stage.do_set_self_muted(ctx, principal.user_id, parse_space_id(space_id), True)
    return to_json(view)


@router.post("/participants/me/unmute", response_model=Participant)
def unmute_me(space_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = space_stage.do_set_self_muted(ctx, principal.user_id, parse_space_id(space_id), False)
    return to_json(view)


@router.post("/participants/{user_id}/unmute", response_model=Participant)
def unmute_other(space_id: str, user_id: str, principal: CurrentUser, ctx: Services) -> Any:
    """Nobody can unmute someone else: only /participants/me/unmute exists for that."""
    target = _user_id(user_id)
    if target != principal.user_id:
        from townhall.domain.errors import Forbidden

        raise Forbidden("Nobody can unmute someone else.", code="cannot_unmute_others")
    view = space_stage.do_set_self_muted(ctx, principal.user_id, parse_space_id(space_id), False)
    return to_json(view)


@router.post("/participants/{user_id}/mute", response_model=Participant)
def mute(space_id: str, user_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = space_stage.do_mute(ctx, principal.user_id, parse_space_id(space_id), _user_id(user_id))
    return to_json(view)


@router.post("/participants/{user_id}/role", response_model=Participant)
def set_role(
    space_id: str, user_id: str, body: RoleBody, principal: CurrentUser, ctx: Services
) -> Any:
    view = space_stage.do_set_role(
        ctx, principal.user_id, parse_space_id(space_id), _user_id(user_id), Role(body.role)
    )
    return to_json(view)


@router.post("/participants/{user_id}/remove", status_code=204)
def remove(
    space_id: str,
    user_id: str,
    principal: CurrentUser,
    ctx: Services,
    body: RemoveBody | None = None,
) -> Response:
    block = body.block if body is not None else False
    space_stage.do_remove(
        ctx, principal.user_id, parse_space_id(space_id), _user_id(user_id), block
    )
    return Response(status_code=204)
