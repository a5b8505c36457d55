"""The tables, as SQLAlchemy Core metadata. Migrations in ``migrations/`` must match them.

``events`` is the journal; ``snapshots`` holds projection checkpoints (`journal.history.snapshots`),
derived data that can be dropped at any time. ``candles``, ``open_interest``, ``funding_rates``
and ``trader_ratios`` hold the collector's market data (`journal.collector.storage`), one row per
natural key (the records' ``key()``), upserted: times are UTC milliseconds, as the exchange
gives them, and ``updated_at`` is when the row was last inserted or changed (ms).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# ids: bigint on PostgreSQL, INTEGER PRIMARY KEY (the rowid alias) on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")
# context: JSONB on PostgreSQL, JSON text on SQLite.
ContextType = Text().with_variant(JSONB(), "postgresql")

events = Table(
    "events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    # microseconds since the Unix epoch, UTC
    Column("ts", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("error_type", String(255), nullable=True),
    Column("severity", String(16), nullable=True),
    Column("message", Text, nullable=True),
    Column("attempt", Integer, nullable=True),
    Column("delay", Float, nullable=True),
    Column("state_from", String(16), nullable=True),
    Column("state_to", String(16), nullable=True),
    Column("context", ContextType, nullable=False),
    UniqueConstraint("event_id", name="events_event_id_key"),
    Index("ix_events_ts", "ts"),
    Index("ix_events_kind_ts", "kind", "ts"),
    Index("ix_events_name_ts", "name", "ts"),
)

# Projection checkpoints: the state of every projection folded through ``last_event_id``.
snapshots = Table(
    "snapshots",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    # `JournalState.projection_key`: the code version and bounds that made the state
    Column("projection_version", String(64), nullable=False),
    # every event with id <= last_event_id is folded in, and no other
    Column("last_event_id", BigInteger, nullable=False),
    # event_id of that last event: a journal rewritten since (ids reused) is detected
    Column("last_event_uuid", String(36), nullable=False),
    # the events folded since the state this one was folded from: from_event_id < id <=
    # last_event_id, and the oldest ts among them (lets a replay skip ranges after its cut)
    Column("from_event_id", BigInteger, nullable=False),
    Column("min_ts", BigInteger, nullable=False),
    # the newest ts among the events folded in (microseconds UTC)
    Column("at_ts", BigInteger, nullable=False),
    Column("events_seen", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),  # wall clock, microseconds UTC
    Column("state", LargeBinary, nullable=False),  # zlib-compressed JSON of `to_state`
    Column("bytes", Integer, nullable=False),  # len(state)
    Index("ix_snapshots_version_last", "projection_version", "last_event_id"),
)

# Market data (`collector.records`): the columns of each table are the record's fields, in order,
# then ``updated_at``; the primary key is the record's ``key()``.
SYMBOL_LENGTH = 64
PERIOD_LENGTH = 16  # a timeframe or a period: "1m", "4h", "1d"; "" for current open interest
KIND_LENGTH = 32

candles = Table(
    "candles",
    metadata,
    Column("symbol", String(SYMBOL_LENGTH), nullable=False),
    Column("timeframe", String(PERIOD_LENGTH), nullable=False),
    Column("ts", BigInteger, nullable=False),  # open time, ms UTC
    Column("open", Float, nullable=False),
    Column("high", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("close", Float, nullable=False),
    Column("volume", Float, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "timeframe", "ts", name="candles_pkey"),
)

open_interest = Table(
    "open_interest",
    metadata,
    Column("symbol", String(SYMBOL_LENGTH), nullable=False),
    Column("period", String(PERIOD_LENGTH), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("amount", Float, nullable=False),  # contracts
    Column("value", Float, nullable=True),  # quote value
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "period", "ts", name="open_interest_pkey"),
)

funding_rates = Table(
    "funding_rates",
    metadata,
    Column("symbol", String(SYMBOL_LENGTH), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("rate", Float, nullable=False),
    Column("mark_price", Float, nullable=True),
    Column("next_funding_ts", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "ts", name="funding_rates_pkey"),
)

trader_ratios = Table(
    "trader_ratios",
    metadata,
    Column("symbol", String(SYMBOL_LENGTH), nullable=False),
    Column("kind", String(KIND_LENGTH), nullable=False),
    Column("period", String(PERIOD_LENGTH), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("ratio", Float, nullable=False),
    Column("long_share", Float, nullable=True),
    Column("short_share", Float, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "kind", "period", "ts", name="trader_ratios_pkey"),
)

MARKET_TABLES = (candles, open_interest, funding_rates, trader_ratios)

# Column order used by readers and writers: matches `journal.events.Event` fields.
EVENT_COLUMNS = (
    "id",
    "event_id",
    "ts",
    "kind",
    "source",
    "name",
    "error_type",
    "severity",
    "message",
    "attempt",
    "delay",
    "state_from",
    "state_to",
    "context",
)
