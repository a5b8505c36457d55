"""snapshots table: projection checkpoints

Revision ID: 0002_snapshots
Revises: 0001_events
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_snapshots"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("projection_version", sa.String(64), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_event_uuid", sa.String(36), nullable=False),
        sa.Column("from_event_id", sa.BigInteger(), nullable=False),
        sa.Column("min_ts", sa.BigInteger(), nullable=False),
        sa.Column("at_ts", sa.BigInteger(), nullable=False),
        sa.Column("events_seen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
    )
    op.create_index("ix_snapshots_version_last", "snapshots", ["projection_version", "last_event_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_version_last", table_name="snapshots")
    op.drop_table("snapshots")
