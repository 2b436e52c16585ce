"""Use cases for accounts: sign up, log in and out, authenticate, edit a profile."""

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from townhall.domain import users as rules
from townhall.domain.errors import Conflict, RateLimited, Unauthenticated
from townhall.domain.moderation import check_not_suspended
from townhall.services.context import ServiceContext
from townhall.services.lookup import require_user
from townhall.services.principal import Principal as Principal  # re-exported for callers
from townhall.services.session_sync import end_everywhere
from townhall.services.tokens import hash_token, new_token
from townhall.services.views import UserView, user_view, user_views
from townhall.storage import moderation as moderation_store
from townhall.storage import users as user_store
from townhall.storage.tables import AuthTokenRow, UserRow
from townhall.types import UserId

log = logging.getLogger("townhall.accounts")


@dataclass(frozen=True)
class SignedIn:
    """A logged-in session: the user's view and the secret token that proves it."""

    user: UserView
    token: str


def _issue_token(ctx: ServiceContext, user_id: int, kind: str) -> tuple[str, AuthTokenRow]:
    token = new_token()
    row = AuthTokenRow(
        id=ctx.ids.next_id(),
        user_id=user_id,
        token_hash=hash_token(token),
        kind=kind,
        created_at=ctx.clock(),
        revoked_at=None,
    )
    return token, row


def do_signup(
    ctx: ServiceContext,
    username: str,
    password: str,
    display_name: str | None,
    token_kind: str = "bearer",
) -> SignedIn:
    rules.check_username(username)
    rules.check_password(password)
    display_name = rules.check_display_name(display_name if display_name else username)
    password_hash = ctx.passwords.hash(password)
    user = UserRow(
        id=ctx.ids.next_id(),
        username=username,
        username_key=rules.username_key(username),
        display_name=display_name,
        bio="",
        password_hash=password_hash,
        avatar_path=None,
        followers_count=0,
        following_count=0,
        is_admin=False,
        created_at=ctx.clock(),
    )
    taken = Conflict("That username is taken.", code="username_taken")
    try:
        with ctx.uow.write() as uow:
            if user_store.get_user_by_username_key(uow.session, user.username_key) is not None:
                raise taken
            uow.session.add(user)
            uow.session.flush()
            token, token_row = _issue_token(ctx, user.id, token_kind)
            uow.session.add(token_row)
    except IntegrityError as exc:  # two signups raced for the same name
        raise taken from exc
    log.info("signup user_id=%s username=%s", user.id, username)
    _remember(ctx, token_row)
    return SignedIn(user=user_view(user), token=token)


def do_login(
    ctx: ServiceContext, username: str, password: str, client_ip: str, token_kind: str = "bearer"
) -> SignedIn:
    keys = (f"user:{rules.username_key(username)[:64]}", f"ip:{client_ip}")
    for key in keys:
        wait_s = ctx.login_failures.retry_after_s(key)
        if wait_s is not None:
            raise RateLimited(
                "Too many failed logins; wait a minute and try again.",
                retry_after_s=int(wait_s) + 1,
            )
    with ctx.uow.read() as uow:
        user = user_store.get_user_by_username_key(uow.session, rules.username_key(username))
        view = user_view(user) if user else None
        password_hash = user.password_hash if user else None
    password_ok = ctx.passwords.verify(password_hash, password)
    if view is None or not password_ok:
        for key in keys:
            ctx.login_failures.hit(key)
        log.info("login failed username=%r ip=%s", username[:64], client_ip)
        raise Unauthenticated("Wrong username or password.", code="bad_credentials")
    with ctx.uow.write() as uow:
        # In the transaction that issues the token: a suspension cannot slip in between.
        check_not_suspended(moderation_store.get_suspension(uow.session, view.id) is not None)
        token, token_row = _issue_token(ctx, view.id, token_kind)
        uow.session.add(token_row)
    _remember(ctx, token_row)
    return SignedIn(user=view, token=token)


def _remember(ctx: ServiceContext, row: AuthTokenRow) -> None:
    """A token just issued is about to be used: spare its first request the lookup."""
    principal = Principal(
        user_id=UserId(row.user_id), token_hash=row.token_hash, token_kind=row.kind
    )
    ctx.tokens.put(row.token_hash, principal)


def cached_principal(ctx: ServiceContext, token: str) -> tuple[str, Principal | None]:
    """(token hash, the principal if this node looked the token up a moment ago).

    A logout or suspension on any node revokes at once (services/session_sync.py); one
    whose message this node missed (Redis down) within `settings.token_cache_s` (5 s by
    default), when the cached entry expires.
    """
    token_hash = hash_token(token)
    return token_hash, ctx.tokens.get(token_hash)


def authenticate_hash(ctx: ServiceContext, token_hash: str) -> Principal:
    with ctx.uow.read() as uow:
        found = user_store.get_active_token(uow.session, token_hash)
    if found is None:
        raise Unauthenticated("Your session has ended; log in again.", code="invalid_token")
    principal = Principal(user_id=UserId(found[0]), token_hash=token_hash, token_kind=found[1])
    ctx.tokens.put(token_hash, principal)
    return principal


def authenticate(ctx: ServiceContext, token: str) -> Principal:
    token_hash, principal = cached_principal(ctx, token)
    return principal if principal is not None else authenticate_hash(ctx, token_hash)


def do_logout(ctx: ServiceContext, principal: Principal) -> None:
    # Before and after the commit: a lookup racing with the logout cannot re-cache it.
    ctx.tokens.revoke(principal.token_hash)
    with ctx.uow.write() as uow:
        user_store.revoke_token(uow.session, principal.token_hash, ctx.clock())
        uow.after_commit(lambda: ctx.tokens.revoke(principal.token_hash))
        # Other nodes may have it cached too.
        end_everywhere(uow, principal.user_id, [principal.token_hash], close_sockets=False)


def get_me(ctx: ServiceContext, user_id: UserId) -> UserView:
    with ctx.uow.read() as uow:
        row = user_store.get_user(uow.session, user_id)
        if row is None:
            raise Unauthenticated("This account no longer exists.", code="invalid_token")
        return user_views(uow.session, [row], None)[0]


def get_user(ctx: ServiceContext, username: str, viewer_id: UserId | None) -> UserView:
    with ctx.uow.read() as uow:
        row = require_user(uow.session, username)
        return user_views(uow.session, [row], viewer_id)[0]


def do_update_profile(
    ctx: ServiceContext, user_id: UserId, display_name: str | None, bio: str | None
) -> UserView:
    if display_name is not None:
        rules.check_display_name(display_name)
    if bio is not None:
        rules.check_bio(bio)
    with ctx.uow.write() as uow:
        row = user_store.get_user(uow.session, user_id)
        if row is None:
            raise Unauthenticated("This account no longer exists.", code="invalid_token")
        if display_name is not None:
            row.display_name = display_name
        if bio is not None:
            row.bio = bio
        uow.session.flush()
        return user_view(row)


def do_set_avatar_path(
    ctx: ServiceContext, user_id: UserId, avatar_path: str
) -> tuple[UserView, str | None]:
    """The new view, and the avatar file it replaced (the caller deletes it once committed)."""
    with ctx.uow.write() as uow:
        row = user_store.get_user(uow.session, user_id)
        if row is None:
            raise Unauthenticated("This account no longer exists.", code="invalid_token")
        replaced = row.avatar_path
        row.avatar_path = avatar_path
        uow.session.flush()
        view = user_view(row)
    return view, replaced
