"""Queries about posts, including the home timeline (fan-out on read)."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import TextualSelect, select, text
from sqlalchemy.orm import Session

from townhall.storage.tables import PostRow, UTCDateTime


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


class PostWithAuthor(NamedTuple):
    """A post and the columns of its author's summary, read in the same statement."""

    id: int
    author_id: int
    text: str
    space_id: int | None
    reply_to: int | None
    created_at: datetime
    username: str
    display_name: str
    avatar_path: str | None


# The page's posts, joined to their authors: one statement for a whole page (a second query for
# the authors cost as much again as the page itself).
_PAGE_WITH_AUTHORS = """
    SELECT posts.id, posts.author_id, posts.text, posts.space_id, posts.reply_to,
           posts.created_at, users.username, users.display_name, users.avatar_path
    FROM page
    JOIN posts ON posts.id = page.id
    JOIN users ON users.id = posts.author_id
    ORDER BY posts.id DESC
"""


def _page_with_authors(ctes: str) -> TextualSelect:
    return text(ctes + _PAGE_WITH_AUTHORS).columns(created_at=UTCDateTime())


_POSTGRES_TIMELINE = _page_with_authors(
    """
    WITH timeline_authors(author_id) AS (
        SELECT followee_id FROM follows WHERE follower_id = :user_id
        UNION
        SELECT CAST(:user_id AS BIGINT)
    ),
    page(id) AS (
        SELECT newest.id
        FROM timeline_authors
        CROSS JOIN LATERAL (
            SELECT posts.id FROM posts
            WHERE posts.author_id = timeline_authors.author_id AND posts.id < :upper_id
            ORDER BY posts.id DESC
            LIMIT :limit
        ) AS newest
        ORDER BY newest.id DESC
        LIMIT :limit
    )
    """
)

_SQLITE_TIMELINE = _page_with_authors(
    """
    WITH timeline_authors(author_id) AS (
        SELECT followee_id FROM follows WHERE follower_id = :user_id
        UNION
        SELECT :user_id
    ),
    threshold(id) AS (
        SELECT max(coalesce((
            SELECT posts.id FROM posts
            WHERE posts.author_id = timeline_authors.author_id AND posts.id < :upper_id
            ORDER BY posts.id DESC
            LIMIT 1 OFFSET :limit - 1
        ), 0))
        FROM timeline_authors
    ),
    page(id) AS (
        SELECT posts.id
        FROM timeline_authors JOIN posts ON posts.author_id = timeline_authors.author_id
        WHERE posts.id < :upper_id AND posts.id >= (SELECT id FROM threshold)
        ORDER BY posts.id DESC
        LIMIT :limit
    )
    """
)


def home_timeline(
    session: Session, user_id: int, before_id: int | None, limit: int
) -> list[PostWithAuthor]:
    """Posts by the user and everyone they follow, newest first, each with its author.

    Fan-out on read that reads about `limit` entries of the (author_id, id) index per author
    followed, at most twice that, whatever the data: it never walks posts by people the user
    does not follow, so following quiet accounts or paging to the end of a timeline costs no
    more than a busy first page (bench/timeline.py measures both).
    PostgreSQL takes the `limit` newest ids of each author with a LATERAL join. SQLite has no
    LATERAL: there the largest of the authors' `limit`-th newest ids is a threshold (that author
    alone has `limit` posts at or above it, so the whole page does too), and one range scan per
    author above the threshold yields the page.
    Written as SQL and read as plain rows: building it with Core, and loading ORM objects,
    each cost about as much Python as running it on SQLite at a million posts.
    """
    if limit <= 0:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    # Ids are 63-bit; the largest signed 64-bit integer is above all of them, and caps a cursor
    # of 19 digits that neither database could take as an integer.
    max_id = (1 << 63) - 1
    upper_id = max_id if before_id is None else min(before_id, max_id)
    query = _POSTGRES_TIMELINE if postgres else _SQLITE_TIMELINE
    params = {"user_id": user_id, "upper_id": upper_id, "limit": limit}
    return [PostWithAuthor(*row) for row in session.execute(query, params)]
