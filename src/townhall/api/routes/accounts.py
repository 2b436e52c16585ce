"""Routes for signing up, logging in and out, and editing your own profile."""

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from townhall.api import avatars
from townhall.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Services,
)
from townhall.api.client_ip import client_ip
from townhall.api.errors import ApiError
from townhall.api.rate_limits import check_login, rate_limited
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import LoginBody, ProfileBody, SignedIn, SignupBody, User
from townhall.domain.users import username_key
from townhall.services import accounts
from townhall.services.context import ServiceContext
from townhall.services.json import to_json
from townhall.services.tokens import csrf_token_for

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERROR_RESPONSES)

SESSION_MAX_AGE_S = 60 * 60 * 24 * 30


def _signed_in(
    ctx: ServiceContext, response: Response, session: accounts.SignedIn, kind: str
) -> dict[str, Any]:
    if kind == "cookie":
        secure = ctx.settings.cookie_secure
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token_for(session.token),
            max_age=SESSION_MAX_AGE_S,
            httponly=False,
            samesite="strict",
            secure=secure,
            path="/",
        )
        return {"user": to_json(session.user), "token": None}
    return {"user": to_json(session.user), "token": session.token}


@router.post(
    "/auth/signup",
    status_code=201,
    response_model=SignedIn,
    dependencies=[rate_limited("signup", per="address")],
)
def signup(body: SignupBody, ctx: Services, response: Response) -> dict[str, Any]:
    session = accounts.do_signup(
        ctx, body.username, body.password, body.display_name, token_kind=body.session
    )
    return _signed_in(ctx, response, session, body.session)


@router.post("/auth/login", response_model=SignedIn)
def login(body: LoginBody, ctx: Services, request: Request, response: Response) -> dict[str, Any]:
    check_login(request, username_key(body.username))
    session = accounts.do_login(
        ctx,
        body.username,
        body.password,
        client_ip(request, ctx.settings.trusted_proxies),
        token_kind=body.session,
    )
    return _signed_in(ctx, response, session, body.session)


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentUser, ctx: Services, response: Response) -> Response:
    accounts.do_logout(ctx, principal)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=User)
def me(principal: CurrentUser, ctx: Services) -> Any:
    return to_json(accounts.get_me(ctx, principal.user_id))


@router.patch("/me", response_model=User)
def update_me(body: ProfileBody, principal: CurrentUser, ctx: Services) -> Any:
    return to_json(accounts.do_update_profile(ctx, principal.user_id, body.display_name, body.bio))


@router.put(
    "/me/avatar",
    response_model=User,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in avatars.ACCEPTED_TYPES
            },
        }
    },
    responses={415: {"description": "Not a PNG, JPEG or WebP image"}},
)
async def upload_avatar(request: Request, principal: CurrentUser, ctx: Services) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in avatars.ACCEPTED_TYPES:
        raise ApiError(415, "Avatars must be PNG, JPEG or WebP images.")
    data = await request.body()
    relative_path = await run_in_threadpool(
        avatars.store_avatar, ctx.settings.media_dir, principal.user_id, data
    )
    view, replaced = await run_in_threadpool(
        accounts.do_set_avatar_path, ctx, principal.user_id, relative_path
    )
    if replaced is not None:
        await run_in_threadpool(avatars.remove_avatar, ctx.settings.media_dir, replaced)
    return to_json(view)
