"""Queries about posts, including the home timeline (fan-out on read)."""

from sqlalchemy import func, literal, select, true
from sqlalchemy.orm import Session

from townhall.storage.tables import FollowRow, IdType, PostRow


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
    """Posts by the user and everyone they follow, newest first.

    Fan-out on read whose cost is bounded by (people followed + 1) x `limit` entries of the
    (author_id, id) index, whatever the data: it never walks the posts of people the user does
    not follow, so a user who follows quiet accounts, or who has paged to the end of their
    timeline, costs no more than anyone else (bench/timeline.py measures it).
    PostgreSQL takes the `limit` newest ids of each author with a LATERAL join. SQLite has no
    LATERAL: there the `limit`-th newest id of each author gives a threshold (the largest of
    them), since that author alone has `limit` posts at or above it, so the page lies above it
    too; one range scan per author above the threshold then yields the page.
    """
    if limit <= 0:
        return []
    # Without a cursor, the bound is the largest signed 64-bit integer: above every 63-bit id.
    upper_id = before_id if before_id is not None else (1 << 63) - 1
    authors = (
        select(FollowRow.followee_id.label("author_id"))
        .where(FollowRow.follower_id == user_id)
        .union(select(literal(user_id, IdType).label("author_id")))
        .cte("timeline_authors")
    )
    if session.get_bind().dialect.name == "postgresql":
        newest = (
            select(PostRow.id)
            .where(PostRow.author_id == authors.c.author_id, PostRow.id < upper_id)
            .order_by(PostRow.id.desc())
            .limit(limit)
            .lateral("newest")
        )
        page = (
            select(newest.c.id)
            .select_from(authors)
            .join(newest, true())
            .order_by(newest.c.id.desc())
            .limit(limit)
            .subquery("page")
        )
    else:
        nth_newest = (
            select(PostRow.id)
            .where(PostRow.author_id == authors.c.author_id, PostRow.id < upper_id)
            .order_by(PostRow.id.desc())
            .limit(1)
            .offset(limit - 1)
            .correlate(authors)
            .scalar_subquery()
        )
        threshold = (
            select(func.max(func.coalesce(nth_newest, 0)))
            .select_from(authors)
            .correlate(None)
            .scalar_subquery()
        )
        page = (
            select(PostRow.id)
            .join(authors, PostRow.author_id == authors.c.author_id)
            .where(PostRow.id < upper_id, PostRow.id >= threshold)
            .order_by(PostRow.id.desc())
            .limit(limit)
            .subquery("page")
        )
    query = select(PostRow).join(page, PostRow.id == page.c.id).order_by(PostRow.id.desc())
    return list(session.scalars(query))
