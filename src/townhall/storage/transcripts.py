"""Transcript segments, and full-text search over them (SQLite FTS5 or PostgreSQL)."""

import re
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from townhall.storage.tables import SpaceRow, TranscriptSegmentRow

PG_TSVECTOR = "to_tsvector('english', transcript_segments.text)"
"""Must match the expression of the GIN index in migration 0004, or PostgreSQL will not
use the index."""

WORD = re.compile(r"\w+", re.UNICODE)


def add_segment(session: Session, row: TranscriptSegmentRow) -> None:
    session.add(row)


def segments(session: Session, space_id: int) -> list[TranscriptSegmentRow]:
    return list(
        session.scalars(
            select(TranscriptSegmentRow)
            .where(TranscriptSegmentRow.space_id == space_id)
            .order_by(TranscriptSegmentRow.offset_ms, TranscriptSegmentRow.id)
        )
    )


def search(session: Session, query: str, limit: int) -> list[TranscriptSegmentRow]:
    """Segments holding every word of `query`, best match first; Spaces that never went
    live (scheduled, cancelled) have no transcript, so every hit is in a replayable Space."""
    words = WORD.findall(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(words))
        tsvector: ColumnClause[Any] = literal_column(PG_TSVECTOR)
        statement = (
            select(TranscriptSegmentRow)
            .where(tsvector.op("@@")(tsquery))
            .order_by(
                func.ts_rank(tsvector, tsquery).desc(),
                TranscriptSegmentRow.space_id.desc(),
                TranscriptSegmentRow.offset_ms,
            )
            .limit(limit)
        )
        return list(session.scalars(statement))
    # FTS5 query syntax: each word quoted (so AND, NEAR, * or a quote in what someone typed
    # is just a word), all of them required.
    match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    ids = [
        row_id
        for (row_id,) in session.execute(
            text(
                "SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH :match "
                "ORDER BY rank LIMIT :limit"
            ),
            {"match": match, "limit": limit},
        )
    ]
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.scalars(
            select(TranscriptSegmentRow)
            .join(SpaceRow, SpaceRow.id == TranscriptSegmentRow.space_id)
            .where(TranscriptSegmentRow.id.in_(ids))
        )
    }
    return [rows[row_id] for row_id in ids if row_id in rows]


def space_titles_and_hosts(session: Session, space_ids: set[int]) -> dict[int, tuple[str, int]]:
    if not space_ids:
        return {}
    rows = session.execute(
        select(SpaceRow.id, SpaceRow.title, SpaceRow.host_id).where(SpaceRow.id.in_(space_ids))
    )
    return {space_id: (title, host_id) for space_id, title, host_id in rows}
