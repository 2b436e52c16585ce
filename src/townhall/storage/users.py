"""Queries about accounts and their bearer/cookie tokens."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
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


def get_active_token(session: Session, token_hash: str) -> AuthTokenRow | None:
    return session.scalars(
        select(AuthTokenRow).where(
            AuthTokenRow.token_hash == token_hash, AuthTokenRow.revoked_at.is_(None)
        )
    ).first()


def revoke_token(session: Session, token_hash: str, when: datetime) -> None:
    session.execute(
        update(AuthTokenRow)
        .where(AuthTokenRow.token_hash == token_hash, AuthTokenRow.revoked_at.is_(None))
        .values(revoked_at=when)
    )
