"""Queries about notifications."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from townhall.storage.tables import NotificationRow


def add_notification(session: Session, row: NotificationRow) -> None:
    session.add(row)
    session.flush()


def list_notifications(
    session: Session, user_id: int, before_id: int | None, limit: int
) -> list[NotificationRow]:
    query = select(NotificationRow).where(NotificationRow.user_id == user_id)
    if before_id is not None:
        query = query.where(NotificationRow.id < before_id)
    return list(session.scalars(query.order_by(NotificationRow.id.desc()).limit(limit)))


def mark_all_read(session: Session, user_id: int) -> None:
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.user_id == user_id, NotificationRow.read.is_(False))
        .values(read=True)
    )
