"""Queries about accounts and their bearer/cookie tokens."""

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from townhall.storage.tables import AuthTokenRow, UserRow


def get_user(session: Session, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def get_user_by_username_key(session: Session, username_key: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.username_key == username_key)).first()


def get_users(session: Session, user_ids: Iterable[int]) -> dict[int, UserRow]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = session.scalars(select(UserRow).where(UserRow.id.in_(ids)))
    return {row.id: row for row in rows}


def summary_rows(session: Session, user_ids: set[int]) -> list[tuple[int, str, str, str | None]]:
    if not user_ids:
        return []
    rows = session.execute(
        select(UserRow.id, UserRow.username, UserRow.display_name, UserRow.avatar_path).where(
            UserRow.id.in_(user_ids)
        )
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


_tokens = cast(Table, AuthTokenRow.__table__)
_ACTIVE_TOKEN = select(_tokens.c.user_id, _tokens.c.kind).where(
    _tokens.c.token_hash == bindparam("token_hash"), _tokens.c.revoked_at.is_(None)
)


def get_active_token(session: Session, token_hash: str) -> tuple[int, str] | None:
    """(user id, token kind) of a token not revoked; a prebuilt Core statement, because
    every request whose token a node has not cached runs it."""
    row = session.connection().execute(_ACTIVE_TOKEN, {"token_hash": token_hash}).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def revoke_token(session: Session, token_hash: str, when: datetime) -> None:
    session.execute(
        update(AuthTokenRow)
        .where(AuthTokenRow.token_hash == token_hash, AuthTokenRow.revoked_at.is_(None))
        .values(revoked_at=when)
    )
