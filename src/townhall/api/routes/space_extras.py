"""Routes for reactions, pinned and shared posts, and polls in a Space."""

from typing import Any

from fastapi import APIRouter, Request, Response

from townhall.api.auth import CurrentUser, MaybeUser, Services
from townhall.api.client_ip import client_ip
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import PostPage, parse_id
from townhall.api.space_schemas import PinBody, Poll, PollBody, PollList, ReactionBody, VoteBody
from townhall.container import Container
from townhall.domain.errors import NotFound
from townhall.services import polls, space_extras
from townhall.services.json import to_json
from townhall.services.spaces import parse_space_id

router = APIRouter(
    prefix="/api/v1/spaces/{space_id}", tags=["space extras"], responses=ERROR_RESPONSES
)


def _post_id(raw: str) -> int:
    parsed = parse_id(raw)
    if parsed is None or parsed < 0:
        raise NotFound("No such post.", code="post_not_found")
    return parsed


def _poll_id(raw: str) -> int:
    parsed = parse_id(raw)
    if parsed is None or parsed < 0:
        raise NotFound("No such poll.", code="poll_not_found")
    return parsed


@router.post("/reactions", status_code=202)
async def react(
    space_id: str, body: ReactionBody, principal: CurrentUser, request: Request
) -> Response:
    """Async: an accepted reaction from someone known to be in the Space never leaves the
    event loop (no worker thread, no database)."""
    parsed = parse_space_id(space_id)
    container: Container = request.app.state.container
    ctx = container.services
    await space_extras.accept_reaction(
        ctx,
        principal.user_id,
        parsed,
        body.emoji,
        client_ip(request, ctx.settings.trusted_proxies),
    )
    container.reactions.add(parsed, principal.user_id, body.emoji)
    return Response(status_code=202)


@router.post("/pins", status_code=201)
def pin(space_id: str, body: PinBody, principal: CurrentUser, ctx: Services) -> Response:
    space_extras.do_pin(ctx, principal.user_id, parse_space_id(space_id), _post_id(body.post_id))
    return Response(status_code=201)


@router.delete("/pins/{post_id}", status_code=204)
def unpin(space_id: str, post_id: str, principal: CurrentUser, ctx: Services) -> Response:
    space_extras.do_unpin(ctx, principal.user_id, parse_space_id(space_id), _post_id(post_id))
    return Response(status_code=204)


@router.get("/shared-posts", response_model=PostPage)
def shared_posts(space_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    views = space_extras.shared_posts(
        ctx, viewer.user_id if viewer else None, parse_space_id(space_id)
    )
    return {"data": to_json(views), "next_cursor": None}


@router.post("/polls", status_code=201, response_model=Poll)
def open_poll(space_id: str, body: PollBody, principal: CurrentUser, ctx: Services) -> Any:
    view = polls.do_open_poll(
        ctx,
        principal.user_id,
        parse_space_id(space_id),
        body.question,
        body.options,
        body.duration_s,
    )
    return to_json(view)


@router.get("/polls", response_model=PollList)
def list_polls(space_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    views = polls.list_polls(ctx, viewer.user_id if viewer else None, parse_space_id(space_id))
    return {"data": to_json(views)}


@router.get("/polls/{poll_id}", response_model=Poll)
def get_poll(space_id: str, poll_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    view = polls.get_poll(
        ctx, viewer.user_id if viewer else None, parse_space_id(space_id), _poll_id(poll_id)
    )
    return to_json(view)


@router.post("/polls/{poll_id}/votes", status_code=204)
def vote(
    space_id: str, poll_id: str, body: VoteBody, principal: CurrentUser, ctx: Services
) -> Response:
    polls.do_vote(ctx, principal.user_id, parse_space_id(space_id), _poll_id(poll_id), body.option)
    return Response(status_code=204)
