"""recordings, replay moments and clips

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townhall.storage.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = townhall.storage.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("space_id", Id, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", Time(timezone=True), nullable=False),
        sa.Column("finished_at", Time(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("space_id"),
    )
    op.create_table(
        "space_moments",
        sa.Column("id", Id, autoincrement=False, nullable=False),
        sa.Column("space_id", Id, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("space_moments", schema=None) as batch_op:
        batch_op.create_index("ix_space_moments_space_id_at", ["space_id", "at"], unique=False)
    op.create_table(
        "clips",
        sa.Column("id", Id, autoincrement=False, nullable=False),
        sa.Column("space_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("start_offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clips_space_id"), ["space_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clips_space_id"))
    op.drop_table("clips")
    with op.batch_alter_table("space_moments", schema=None) as batch_op:
        batch_op.drop_index("ix_space_moments_space_id_at")
    op.drop_table("space_moments")
    op.drop_table("recordings")
