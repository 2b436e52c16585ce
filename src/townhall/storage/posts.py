"""Queries about posts, including the home timeline (fan-out on read)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.storage.tables import FollowRow, PostRow


def get_post(session: Session, post_id: int) -> PostRow | None:
    return session.get(PostRow, post_id)


def get_posts(session: Session, post_ids: set[int]) -> dict[int, PostRow]:
    if not post_ids:
        return {}
    return {row.id: row for row in session.scalars(select(PostRow).where(PostRow.id.in_(post_ids)))}


def add_post(session: Session, row: PostRow) -> None:
    session.add(row)
    session.flush()


def list_user_posts(
    session: Session, author_id: int, before_id: int | None, limit: int
) -> list[PostRow]:
    query = select(PostRow).where(PostRow.author_id == author_id)
    if before_id is not None:
        query = query.where(PostRow.id < before_id)
    return list(session.scalars(query.order_by(PostRow.id.desc()).limit(limit)))


def home_timeline(
    session: Session, user_id: int, before_id: int | None, limit: int
) -> list[PostRow]:
    """Posts by the user and everyone they follow, newest first."""
    author_ids = select(FollowRow.followee_id).where(FollowRow.follower_id == user_id)
    query = select(PostRow).where(
        (PostRow.author_id.in_(author_ids)) | (PostRow.author_id == user_id)
    )
    if before_id is not None:
        query = query.where(PostRow.id < before_id)
    return list(session.scalars(query.order_by(PostRow.id.desc()).limit(limit)))
