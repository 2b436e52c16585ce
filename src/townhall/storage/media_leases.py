"""Queries on media leases: who owns each live Space's media, taken and renewed atomically."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from townhall.storage.tables import MediaLeaseRow, SpaceRow


def claim(
    session: Session, space_id: int, node_id: int, node_url: str, now: datetime, ttl_s: float
) -> tuple[MediaLeaseRow, bool]:
    """Takes the lease if it is free, ours or lapsed; otherwise returns the owner's. True
    with it when this took it from another node.

    The row is locked (PostgreSQL) or the database is (SQLite, one writer), so two nodes
    never both win; a takeover bumps `epoch` so the stalled former owner learns it lost."""
    expires = now + timedelta(seconds=ttl_s)
    row = session.scalars(
        select(MediaLeaseRow).where(MediaLeaseRow.space_id == space_id).with_for_update()
    ).first()
    if row is None:
        row = MediaLeaseRow(
            space_id=space_id, node_id=node_id, node_url=node_url, epoch=1, expires_at=expires
        )
        session.add(row)
        session.flush()
        return row, False
    if row.node_id == node_id:
        row.node_url = node_url
        row.expires_at = expires
    elif row.expires_at <= now:
        row.node_id = node_id
        row.node_url = node_url
        row.epoch += 1
        row.expires_at = expires
        return row, True
    return row, False


def renew(
    session: Session, leases: dict[int, int], node_id: int, now: datetime, ttl_s: float
) -> set[int]:
    """Extends the leases this node holds ({space_id: epoch}); returns the ones it lost."""
    expires = now + timedelta(seconds=ttl_s)
    lost: set[int] = set()
    for space_id, epoch in leases.items():
        result = session.execute(
            update(MediaLeaseRow)
            .where(
                MediaLeaseRow.space_id == space_id,
                MediaLeaseRow.node_id == node_id,
                MediaLeaseRow.epoch == epoch,
            )
            .values(expires_at=expires)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            lost.add(space_id)
    return lost


def release(session: Session, space_id: int, node_id: int, epoch: int) -> None:
    session.execute(
        delete(MediaLeaseRow).where(
            MediaLeaseRow.space_id == space_id,
            MediaLeaseRow.node_id == node_id,
            MediaLeaseRow.epoch == epoch,
        )
    )


def lapsed(session: Session, now: datetime) -> list[tuple[int, bool]]:
    """(space_id, still live) of every lease whose owner stopped renewing it."""
    rows = session.execute(
        select(MediaLeaseRow.space_id, SpaceRow.state)
        .join(SpaceRow, SpaceRow.id == MediaLeaseRow.space_id)
        .where(MediaLeaseRow.expires_at <= now)
    )
    return [(space_id, state == "live") for space_id, state in rows]


def forget(session: Session, space_ids: list[int], now: datetime) -> None:
    """Lapsed leases of Spaces that ended: nobody will renew or take them."""
    session.execute(
        delete(MediaLeaseRow).where(
            MediaLeaseRow.space_id.in_(space_ids), MediaLeaseRow.expires_at <= now
        )
    )


def held_elsewhere(session: Session, node_id: int, now: datetime) -> set[int]:
    """Spaces whose media another node owns right now."""
    return set(
        session.scalars(
            select(MediaLeaseRow.space_id).where(
                MediaLeaseRow.node_id != node_id, MediaLeaseRow.expires_at > now
            )
        )
    )


def owner_url(session: Session, space_id: int, node_id: int, now: datetime) -> str | None:
    """The URL of another node holding the Space's media right now, if one does."""
    return session.scalars(
        select(MediaLeaseRow.node_url).where(
            MediaLeaseRow.space_id == space_id,
            MediaLeaseRow.node_id != node_id,
            MediaLeaseRow.expires_at > now,
        )
    ).first()
