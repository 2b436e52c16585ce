"""captions: transcript segments and their full-text index

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townhall.storage.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_TSVECTOR = "to_tsvector('english', text)"


def upgrade() -> None:
    op.create_table(
        "transcript_segments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("space_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", townhall.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_transcript_segments_space_offset",
        "transcript_segments",
        ["space_id", "offset_ms"],
        unique=False,
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # External-content FTS5: the text lives once, in transcript_segments; triggers keep
        # the index in step (rows are only ever inserted, or deleted with their Space).
        op.execute(
            "CREATE VIRTUAL TABLE transcript_fts USING fts5("
            "text, content='transcript_segments', content_rowid='id', "
            "tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER transcript_fts_insert AFTER INSERT ON transcript_segments BEGIN "
            "INSERT INTO transcript_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER transcript_fts_delete AFTER DELETE ON transcript_segments BEGIN "
            "INSERT INTO transcript_fts(transcript_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_transcript_segments_fts ON transcript_segments "
            f"USING gin ({PG_TSVECTOR})"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS transcript_fts_delete")
        op.execute("DROP TRIGGER IF EXISTS transcript_fts_insert")
        op.execute("DROP TABLE IF EXISTS transcript_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_transcript_segments_fts")
    op.drop_index("ix_transcript_segments_space_offset", table_name="transcript_segments")
    op.drop_table("transcript_segments")
