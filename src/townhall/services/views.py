"""What the use cases hand back: plain dataclasses, so transports never see table rows."""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from townhall.storage import social as social_store
from townhall.storage import users as user_store
from townhall.storage.posts import PostWithAuthor
from townhall.storage.tables import NotificationRow, PostRow, UserRow


@dataclass(frozen=True)
class Relationship:
    """How the viewer relates to a user; absent when nobody is logged in or it is yourself."""

    following: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    bio: str
    avatar_url: str | None
    followers_count: int
    following_count: int
    live_space_id: int | None
    created_at: datetime
    relationship: Relationship | None = None


@dataclass(frozen=True)
class UserSummary:
    """The few fields a post or notification needs to show who it is from."""

    id: int
    username: str
    display_name: str
    avatar_url: str | None
    live_space_id: int | None = None
    """The live Space they host or speak in: the avatar's live ring (docs/api-extensions.md)."""


@dataclass(frozen=True)
class PostView:
    id: int
    author_id: int
    text: str
    space_id: int | None
    reply_to: int | None
    created_at: datetime
    author: UserSummary | None


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    actor_id: int | None
    space_id: int | None
    post_id: int | None
    created_at: datetime
    read: bool
    actor: UserSummary | None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    data: list[T]
    next_cursor: str | None


def media_url(avatar_path: str | None) -> str | None:
    return f"/media/{avatar_path}" if avatar_path else None


def avatar_url(row: UserRow) -> str | None:
    return media_url(row.avatar_path)


def user_view(
    row: UserRow, relationship: Relationship | None = None, live_space_id: int | None = None
) -> UserView:
    return UserView(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        bio=row.bio,
        avatar_url=avatar_url(row),
        followers_count=row.followers_count,
        following_count=row.following_count,
        live_space_id=live_space_id,
        created_at=row.created_at,
        relationship=relationship,
    )


def user_summary(row: UserRow) -> UserSummary:
    return UserSummary(
        id=row.id, username=row.username, display_name=row.display_name, avatar_url=avatar_url(row)
    )


def user_summaries(session: Session, user_ids: set[int]) -> dict[int, UserSummary]:
    """Only the four columns a summary shows, and live Spaces in one more query: lists of
    posts and people stay cheap."""
    from townhall.storage.spaces import live_spaces_of

    live = live_spaces_of(session, user_ids)
    return {
        user_id: UserSummary(
            id=user_id,
            username=username,
            display_name=display_name,
            avatar_url=media_url(avatar_path),
            live_space_id=live.get(user_id),
        )
        for user_id, username, display_name, avatar_path in user_store.summary_rows(
            session, user_ids
        )
    }


def user_views(session: Session, rows: list[UserRow], viewer_id: int | None) -> list[UserView]:
    """Views with live Spaces and the viewer's relationship to each, in a few queries."""
    from townhall.storage.spaces import live_spaces_of

    live = live_spaces_of(session, {row.id for row in rows})
    if viewer_id is None:
        return [user_view(row, None, live.get(row.id)) for row in rows]
    ids = {row.id for row in rows} - {viewer_id}
    following = social_store.following_ids_among(session, viewer_id, ids)
    followed_by = social_store.follower_ids_among(session, viewer_id, ids)
    blocking = social_store.blocked_ids_among(session, viewer_id, ids)
    blocked_by = social_store.blocker_ids_among(session, viewer_id, ids)
    return [
        user_view(
            row,
            None
            if row.id == viewer_id
            else Relationship(
                following=row.id in following,
                followed_by=row.id in followed_by,
                blocking=row.id in blocking,
                blocked_by=row.id in blocked_by,
            ),
            live.get(row.id),
        )
        for row in rows
    ]


def _post_view(post: PostRow | PostWithAuthor, author: UserSummary | None) -> PostView:
    return PostView(
        id=post.id,
        author_id=post.author_id,
        text=post.text,
        space_id=post.space_id,
        reply_to=post.reply_to,
        created_at=post.created_at,
        author=author,
    )


def post_views(session: Session, rows: list[PostRow]) -> list[PostView]:
    authors = user_summaries(session, {row.author_id for row in rows})
    return [_post_view(row, authors.get(row.author_id)) for row in rows]


def posts_with_authors_views(
    entries: list[PostWithAuthor], live: dict[int, int] | None = None
) -> list[PostView]:
    """Views of posts whose authors' summaries came in the same rows; `live` maps author
    ids to the live Space each hosts or speaks in (see `live_spaces_of`)."""
    live = live or {}
    return [
        _post_view(
            entry,
            UserSummary(
                id=entry.author_id,
                username=entry.username,
                display_name=entry.display_name,
                avatar_url=media_url(entry.avatar_path),
                live_space_id=live.get(entry.author_id),
            ),
        )
        for entry in entries
    ]


def notification_views(session: Session, rows: list[NotificationRow]) -> list[NotificationView]:
    actors = user_summaries(session, {row.actor_id for row in rows if row.actor_id})
    return [
        NotificationView(
            id=row.id,
            kind=row.kind,
            actor_id=row.actor_id,
            space_id=row.space_id,
            post_id=row.post_id,
            created_at=row.created_at,
            read=row.read,
            actor=actors.get(row.actor_id) if row.actor_id else None,
        )
        for row in rows
    ]
