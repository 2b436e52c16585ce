"""media leases: which node owns each live Space's media, until when

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townhall.storage.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = townhall.storage.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "media_leases",
        sa.Column("space_id", Id, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("node_url", sa.String(length=200), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("space_id"),
    )


def downgrade() -> None:
    op.drop_table("media_leases")
