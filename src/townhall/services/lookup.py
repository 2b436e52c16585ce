"""Loads that turn a missing row into the domain's NotFound, shared by the use cases."""

from sqlalchemy.orm import Session

from townhall.domain import users as user_rules
from townhall.domain.errors import NotFound
from townhall.storage import posts as post_store
from townhall.storage import users as user_store
from townhall.storage.tables import PostRow, UserRow


def require_user(session: Session, username: str) -> UserRow:
    if not user_rules.USERNAME_PATTERN.fullmatch(username):
        raise NotFound("No such user.", code="user_not_found")
    row = user_store.get_user_by_username_key(session, user_rules.username_key(username))
    if row is None:
        raise NotFound("No such user.", code="user_not_found")
    return row


def require_user_id(session: Session, user_id: int) -> UserRow:
    row = user_store.get_user(session, user_id)
    if row is None:
        raise NotFound("No such user.", code="user_not_found")
    return row


def require_post(session: Session, post_id: int) -> PostRow:
    row = post_store.get_post(session, post_id)
    if row is None:
        raise NotFound("No such post.", code="post_not_found")
    return row
