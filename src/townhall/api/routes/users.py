"""Routes for profiles and the social graph."""

from typing import Any

from fastapi import APIRouter, Query, Response

from townhall.api.auth import CurrentUser, MaybeUser, Services
from townhall.api.rate_limits import rate_limited
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import PostPage, User, UserPage
from townhall.services import accounts, posts, social
from townhall.services.json import to_json

router = APIRouter(prefix="/api/v1/users", tags=["social graph"], responses=ERROR_RESPONSES)

Cursor = Query(default=None, max_length=40)
Limit = Query(default=None)


@router.get("/{username}", response_model=User)
def get_user(username: str, viewer: MaybeUser, ctx: Services) -> Any:
    return to_json(accounts.get_user(ctx, username, viewer.user_id if viewer else None))


@router.post("/{username}/follow", status_code=204, dependencies=[rate_limited("follow")])
def follow(username: str, principal: CurrentUser, ctx: Services) -> Response:
    social.do_follow(ctx, principal.user_id, username)
    return Response(status_code=204)


@router.delete("/{username}/follow", status_code=204, dependencies=[rate_limited("follow")])
def unfollow(username: str, principal: CurrentUser, ctx: Services) -> Response:
    social.do_unfollow(ctx, principal.user_id, username)
    return Response(status_code=204)


@router.post("/{username}/block", status_code=204)
def block(username: str, principal: CurrentUser, ctx: Services) -> Response:
    social.do_block(ctx, principal.user_id, username)
    return Response(status_code=204)


@router.delete("/{username}/block", status_code=204)
def unblock(username: str, principal: CurrentUser, ctx: Services) -> Response:
    social.do_unblock(ctx, principal.user_id, username)
    return Response(status_code=204)


@router.get("/{username}/followers", response_model=UserPage)
def followers(
    username: str,
    viewer: MaybeUser,
    ctx: Services,
    cursor: str | None = Cursor,
    limit: int | None = Limit,
) -> Any:
    viewer_id = viewer.user_id if viewer else None
    return to_json(social.list_followers(ctx, username, viewer_id, cursor, limit))


@router.get("/{username}/following", response_model=UserPage)
def following(
    username: str,
    viewer: MaybeUser,
    ctx: Services,
    cursor: str | None = Cursor,
    limit: int | None = Limit,
) -> Any:
    viewer_id = viewer.user_id if viewer else None
    return to_json(social.list_following(ctx, username, viewer_id, cursor, limit))


@router.get("/{username}/posts", response_model=PostPage)
def user_posts(
    username: str, ctx: Services, cursor: str | None = Cursor, limit: int | None = Limit
) -> Any:
    return to_json(posts.user_posts(ctx, username, cursor, limit))
