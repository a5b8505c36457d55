"""market data tables: candles, open_interest, funding_rates, trader_ratios

Revision ID: 0003_market_data
Revises: 0002_snapshots
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_market_data"
down_revision: str | None = "0002_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One row per natural key (the collector's records' key()); times in ms UTC.
SYMBOL, PERIOD, KIND = 64, 16, 32


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("symbol", sa.String(SYMBOL), nullable=False),
        sa.Column("timeframe", sa.String(PERIOD), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe", "ts", name="candles_pkey"),
    )
    op.create_table(
        "open_interest",
        sa.Column("symbol", sa.String(SYMBOL), nullable=False),
        sa.Column("period", sa.String(PERIOD), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "period", "ts", name="open_interest_pkey"),
    )
    op.create_table(
        "funding_rates",
        sa.Column("symbol", sa.String(SYMBOL), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("mark_price", sa.Float(), nullable=True),
        sa.Column("next_funding_ts", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "ts", name="funding_rates_pkey"),
    )
    op.create_table(
        "trader_ratios",
        sa.Column("symbol", sa.String(SYMBOL), nullable=False),
        sa.Column("kind", sa.String(KIND), nullable=False),
        sa.Column("period", sa.String(PERIOD), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("long_share", sa.Float(), nullable=True),
        sa.Column("short_share", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "kind", "period", "ts", name="trader_ratios_pkey"),
    )


def downgrade() -> None:
    op.drop_table("trader_ratios")
    op.drop_table("funding_rates")
    op.drop_table("open_interest")
    op.drop_table("candles")
