"""Routes for posts and the home timeline."""

from typing import Any

from fastapi import APIRouter, Query

from townhall.api.auth import CurrentUser, Services
from townhall.api.rate_limits import rate_limited
from townhall.api.responses import json_response
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import Post, PostBody, PostPage, parse_id
from townhall.domain.errors import NotFound
from townhall.services import posts
from townhall.services.json import to_json

router = APIRouter(prefix="/api/v1", tags=["posts"], responses=ERROR_RESPONSES)


@router.post("/posts", status_code=201, response_model=Post, dependencies=[rate_limited("post")])
def create_post(body: PostBody, principal: CurrentUser, ctx: Services) -> Any:
    reply_to = parse_id(body.reply_to)
    space_id = parse_id(body.space_id)
    if reply_to == -1:
        raise NotFound("No such post to reply to.", code="post_not_found")
    if space_id == -1:
        raise NotFound("No such Space.", code="space_not_found")
    return to_json(posts.do_create_post(ctx, principal.user_id, body.text, space_id, reply_to))


@router.get("/posts/{post_id}", response_model=Post)
def get_post(post_id: str, ctx: Services) -> Any:
    parsed = parse_id(post_id)
    if parsed is None or parsed == -1:
        raise NotFound("No such post.", code="post_not_found")
    return to_json(posts.get_post(ctx, parsed))


@router.get("/timeline", response_model=PostPage)
def timeline(
    principal: CurrentUser,
    ctx: Services,
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    return json_response(to_json(posts.home_timeline(ctx, principal.user_id, cursor, limit)))
