"""Queries about recordings, the moments a replay shows, and clips."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townhall.storage.tables import (
    ClipRow,
    RecordingRow,
    SpaceEventRow,
    SpaceMomentRow,
    SpaceRow,
)


def get_recording(session: Session, space_id: int, for_update: bool = False) -> RecordingRow | None:
    query = select(RecordingRow).where(RecordingRow.space_id == space_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def add_recording(session: Session, row: RecordingRow) -> None:
    session.add(row)
    session.flush()


def recordings_in_states(session: Session, states: tuple[str, ...]) -> list[int]:
    return list(
        session.scalars(select(RecordingRow.space_id).where(RecordingRow.state.in_(states)))
    )


def recordings_ended_before(session: Session, cutoff: datetime) -> list[int]:
    return list(
        session.scalars(
            select(RecordingRow.space_id)
            .join(SpaceRow, SpaceRow.id == RecordingRow.space_id)
            .where(SpaceRow.state == "ended", SpaceRow.ended_at < cutoff)
        )
    )


def live_recordings(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(RecordingRow.space_id)
            .join(SpaceRow, SpaceRow.id == RecordingRow.space_id)
            .where(SpaceRow.state == "live", RecordingRow.state == "recording")
        )
    )


def delete_recording(session: Session, space_id: int) -> None:
    session.execute(delete(RecordingRow).where(RecordingRow.space_id == space_id))
    session.execute(delete(SpaceMomentRow).where(SpaceMomentRow.space_id == space_id))


def add_moments(session: Session, rows: list[SpaceMomentRow]) -> None:
    session.add_all(rows)


def moments(session: Session, space_id: int) -> list[tuple[str, str, datetime]]:
    """(type, data, at): plain rows, as an hour holds tens of thousands of them."""
    rows = session.execute(
        select(SpaceMomentRow.type, SpaceMomentRow.data, SpaceMomentRow.at)
        .where(SpaceMomentRow.space_id == space_id)
        .order_by(SpaceMomentRow.at, SpaceMomentRow.id)
    )
    return [(kind, data, at) for kind, data, at in rows]


def log_events_of_types(
    session: Session, space_id: int, types: frozenset[str]
) -> list[SpaceEventRow]:
    return list(
        session.scalars(
            select(SpaceEventRow)
            .where(SpaceEventRow.space_id == space_id, SpaceEventRow.type.in_(sorted(types)))
            .order_by(SpaceEventRow.seq)
        )
    )


def add_clip(session: Session, row: ClipRow) -> None:
    session.add(row)
    session.flush()


def get_clip(session: Session, clip_id: int) -> ClipRow | None:
    return session.get(ClipRow, clip_id)


def recorded_spaces_of(
    session: Session, host_id: int, before_id: int | None, limit: int
) -> list[SpaceRow]:
    query = (
        select(SpaceRow)
        .join(RecordingRow, RecordingRow.space_id == SpaceRow.id)
        .where(SpaceRow.host_id == host_id, RecordingRow.state == "ready")
    )
    if before_id is not None:
        query = query.where(SpaceRow.id < before_id)
    return list(session.scalars(query.order_by(SpaceRow.id.desc()).limit(limit)))
