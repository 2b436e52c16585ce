"""Who is calling: a bearer token, or the browser's session cookie guarded against CSRF."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from townhall.domain.errors import Forbidden, Unauthenticated
from townhall.services import accounts
from townhall.services.accounts import Principal
from townhall.services.context import ServiceContext
from townhall.services.tokens import csrf_matches

SESSION_COOKIE = "townhall_session"
CSRF_COOKIE = "townhall_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services_of(connection: HTTPConnection) -> ServiceContext:
    ctx: ServiceContext = connection.app.state.container.services
    return ctx


async def _services(connection: HTTPConnection) -> ServiceContext:
    # Async on purpose: FastAPI runs a plain `def` dependency in the threadpool, a thread hop
    # per request for an attribute lookup.
    return services_of(connection)


Services = Annotated[ServiceContext, Depends(_services)]


def _bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.", code="invalid_token")
    return token.strip()


def _credential(request: Request, required: bool) -> tuple[str, bool] | None:
    """The token and whether it came from the session cookie (then CSRF applies)."""
    token = _bearer(request)
    if token is not None:
        return token, False
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, True
    if required:
        raise Unauthenticated("Log in first.", code="unauthenticated")
    return None


def same_origin(connection: HTTPConnection) -> bool:
    """True unless the browser says the request comes from another site's page.

    Browsers send Origin on every cross-site POST and on WebSockets; a client that is not
    a browser may send none. Behind a proxy, Host must be passed on (deploy/nginx does).
    """
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == connection.headers.get("host", "")


def _check_csrf(request: Request, cookie: str) -> None:
    if request.method in SAFE_METHODS:
        return
    # Two checks, either enough alone: a page on another site can neither read the CSRF
    # cookie to copy it into the header, nor send its own Origin.
    if not same_origin(request):
        raise Forbidden("Cross-site requests cannot use the session cookie.", code="csrf_failed")
    if not csrf_matches(cookie, request.headers.get(CSRF_HEADER, "")):
        raise Forbidden("This request lacks a valid X-CSRF-Token header.", code="csrf_failed")


def _principal(request: Request, required: bool) -> Principal | None:
    credential = _credential(request, required)
    if credential is None:
        return None
    token, from_cookie = credential
    principal = accounts.authenticate(services_of(request), token)
    if from_cookie:
        _check_csrf(request, token)
    return principal


async def _principal_async(request: Request, required: bool) -> Principal | None:
    """On the event loop: a token this node saw a moment ago costs no database and no
    worker thread (see accounts.cached_principal for how long a cached token is trusted)."""
    credential = _credential(request, required)
    if credential is None:
        return None
    token, from_cookie = credential
    ctx = services_of(request)
    token_hash, principal = accounts.cached_principal(ctx, token)
    if principal is None:
        principal = await run_in_threadpool(accounts.authenticate_hash, ctx, token_hash)
    if from_cookie:
        _check_csrf(request, token)
    return principal


def require_principal(request: Request) -> Principal:
    """For code already off the event loop; routes use CurrentUser."""
    principal = _principal(request, required=True)
    assert principal is not None
    return principal


def optional_principal(request: Request) -> Principal | None:
    """For code already off the event loop; routes use MaybeUser."""
    return _principal(request, required=False)


async def _require_principal(request: Request) -> Principal:
    principal = await _principal_async(request, required=True)
    assert principal is not None
    return principal


async def _optional_principal(request: Request) -> Principal | None:
    return await _principal_async(request, required=False)


def websocket_token(connection: HTTPConnection) -> tuple[str, bool] | None:
    """The token for a WebSocket and whether it came from the cookie (then Origin must match)."""
    query_token = connection.query_params.get("token")
    if query_token:
        return query_token, False
    header_token = _bearer(connection)
    if header_token:
        return header_token, False
    cookie = connection.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else None


CurrentUser = Annotated[Principal, Depends(_require_principal)]
MaybeUser = Annotated[Principal | None, Depends(_optional_principal)]
