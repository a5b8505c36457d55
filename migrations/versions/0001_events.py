"""events table

Revision ID: 0001_events
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_events"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("error_type", sa.String(255), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("delay", sa.Float(), nullable=True),
        sa.Column("state_from", sa.String(16), nullable=True),
        sa.Column("state_to", sa.String(16), nullable=True),
        sa.Column("context", sa.Text().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.UniqueConstraint("event_id", name="events_event_id_key"),
    )
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_index("ix_events_kind_ts", "events", ["kind", "ts"])
    op.create_index("ix_events_name_ts", "events", ["name", "ts"])


def downgrade() -> None:
    op.drop_index("ix_events_name_ts", table_name="events")
    op.drop_index("ix_events_kind_ts", table_name="events")
    op.drop_index("ix_events_ts", table_name="events")
    op.drop_table("events")
