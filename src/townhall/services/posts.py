"""Use cases for posts and the home timeline."""

import logging
from typing import TypeVar

from townhall.domain import posts as rules
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.domain.social import check_can_interact
from townhall.domain.spaces.model import SpaceEvent
from townhall.services.context import ServiceContext
from townhall.services.json import to_json
from townhall.services.lookup import require_post, require_user
from townhall.services.spaces import commit_change, load
from townhall.services.views import Page, PostView, post_views, posts_with_authors_views
from townhall.storage import posts as post_store
from townhall.storage import social as social_store
from townhall.storage.posts import PostWithAuthor
from townhall.storage.spaces import live_spaces_of
from townhall.storage.tables import PostRow
from townhall.types import UserId

log = logging.getLogger("townhall.posts")

_Row = TypeVar("_Row", PostRow, PostWithAuthor)


def do_create_post(
    ctx: ServiceContext,
    author_id: UserId,
    text: str,
    space_id: int | None,
    reply_to: int | None,
) -> PostView:
    rules.check_post_text(text)
    with ctx.uow.write() as uow:
        if reply_to is not None:
            parent = require_post(uow.session, reply_to)
            check_can_interact(
                author_id,
                UserId(parent.author_id),
                social_store.block_state(uow.session, author_id, parent.author_id),
            )
        space = None
        if space_id is not None:
            # Posting from inside a Space, or sharing one: it must exist and be visible to you.
            space = load(uow.session, space_id, author_id, lock=True)
        row = PostRow(
            id=ctx.ids.next_id(),
            author_id=author_id,
            text=text,
            space_id=space_id,
            reply_to=reply_to,
            created_at=ctx.clock(),
        )
        post_store.add_post(uow.session, row)
        view = post_views(uow.session, [row])[0]
        if space is not None:
            commit_change(ctx, uow, space, [SpaceEvent("post.shared", {"post": to_json(view)})], [])
    log.info("post %s by %s", row.id, author_id)
    return view


def get_post(ctx: ServiceContext, post_id: int) -> PostView:
    with ctx.uow.read() as uow:
        return post_views(uow.session, [require_post(uow.session, post_id)])[0]


def _page(rows: list[_Row], page_size: int) -> tuple[list[_Row], str | None]:
    more = len(rows) > page_size
    rows = rows[:page_size]
    return rows, encode_cursor(rows[-1].id) if more else None


def home_timeline(
    ctx: ServiceContext, user_id: UserId, cursor: str | None, limit: int | None
) -> Page[PostView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        entries, next_cursor = _page(
            post_store.home_timeline(uow.session, user_id, before_id, page_size + 1), page_size
        )
        live = live_spaces_of(uow.session, {entry.author_id for entry in entries})
    return Page(data=posts_with_authors_views(entries, live), next_cursor=next_cursor)


def user_posts(
    ctx: ServiceContext, username: str, cursor: str | None, limit: int | None
) -> Page[PostView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        author = require_user(uow.session, username)
        rows, next_cursor = _page(
            post_store.list_user_posts(uow.session, author.id, before_id, page_size + 1),
            page_size,
        )
        return Page(data=post_views(uow.session, rows), next_cursor=next_cursor)
