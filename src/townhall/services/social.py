"""Use cases for the social graph: follow, unfollow, block, and the follower lists."""

import logging

from sqlalchemy.exc import IntegrityError

from townhall.domain import social as rules
from townhall.domain.notifications import NotificationKind
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.services.context import ServiceContext
from townhall.services.lookup import require_user
from townhall.services.notifications import notify
from townhall.services.reaction_permits import ACCESS_CHANNEL
from townhall.services.views import Page, UserView, user_views
from townhall.storage import social as social_store
from townhall.storage import users as user_store
from townhall.storage.tables import BlockRow, FollowRow
from townhall.types import UserId

log = logging.getLogger("townhall.social")


def do_follow(ctx: ServiceContext, follower_id: UserId, username: str) -> None:
    """Idempotent: following someone you already follow changes nothing and notifies nobody."""
    try:
        with ctx.uow.write() as uow:
            followee = require_user(uow.session, username)
            rules.check_can_follow(
                follower_id,
                UserId(followee.id),
                social_store.block_state(uow.session, follower_id, followee.id),
            )
            if social_store.get_follow(uow.session, follower_id, followee.id) is not None:
                return
            social_store.add_follow(
                uow.session,
                FollowRow(
                    id=ctx.ids.next_id(),
                    follower_id=follower_id,
                    followee_id=followee.id,
                    created_at=ctx.clock(),
                ),
            )
            notify(ctx, uow, UserId(followee.id), NotificationKind.FOLLOW, actor_id=follower_id)
    except IntegrityError:  # a concurrent identical follow won: the result is the same
        return
    log.info("follow %s -> %s", follower_id, followee.id)


def do_unfollow(ctx: ServiceContext, follower_id: UserId, username: str) -> None:
    with ctx.uow.write() as uow:
        followee = require_user(uow.session, username)
        social_store.remove_follow(uow.session, follower_id, followee.id)


def do_block(ctx: ServiceContext, blocker_id: UserId, username: str) -> None:
    """Blocking also ends follows both ways, so neither sees the other's posts."""
    with ctx.uow.write() as uow:
        blocked = require_user(uow.session, username)
        rules.check_can_block(blocker_id, UserId(blocked.id))
        social_store.add_block(
            uow.session,
            BlockRow(blocker_id=blocker_id, blocked_id=blocked.id, created_at=ctx.clock()),
        )
        social_store.remove_follow(uow.session, blocker_id, blocked.id)
        social_store.remove_follow(uow.session, blocked.id, blocker_id)
        # A block hides the Spaces of one from the other: every node's reaction permits
        # must forget both (this node at once, the others through the bus).
        pair = [int(blocker_id), int(blocked.id)]
        uow.after_commit(lambda: ctx.reaction_permits.forget_users(pair))
        uow.emit(ACCESS_CHANNEL, {"type": "block.added", "user_ids": pair})
    log.info("block %s -> %s", blocker_id, blocked.id)


def do_unblock(ctx: ServiceContext, blocker_id: UserId, username: str) -> None:
    with ctx.uow.write() as uow:
        blocked = require_user(uow.session, username)
        social_store.remove_block(uow.session, blocker_id, blocked.id)


def _list(
    ctx: ServiceContext,
    username: str,
    viewer_id: UserId | None,
    cursor: str | None,
    limit: int | None,
    followers: bool,
) -> Page[UserView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        user = require_user(uow.session, username)
        lister = social_store.list_followers if followers else social_store.list_following
        follows = lister(uow.session, user.id, before_id, page_size + 1)
        more = len(follows) > page_size
        follows = follows[:page_size]
        other_ids = [f.follower_id if followers else f.followee_id for f in follows]
        rows = user_store.get_users(uow.session, other_ids)
        views = user_views(uow.session, [rows[i] for i in other_ids if i in rows], viewer_id)
    return Page(data=views, next_cursor=encode_cursor(follows[-1].id) if more else None)


def list_followers(
    ctx: ServiceContext,
    username: str,
    viewer_id: UserId | None,
    cursor: str | None,
    limit: int | None,
) -> Page[UserView]:
    return _list(ctx, username, viewer_id, cursor, limit, followers=True)


def list_following(
    ctx: ServiceContext,
    username: str,
    viewer_id: UserId | None,
    cursor: str | None,
    limit: int | None,
) -> Page[UserView]:
    return _list(ctx, username, viewer_id, cursor, limit, followers=False)
