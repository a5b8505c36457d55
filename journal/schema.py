"""The tables, as SQLAlchemy Core metadata. Migrations in ``migrations/`` must match them.

``events`` is the journal; ``snapshots`` holds projection checkpoints (`journal.snapshots`),
derived data that can be dropped at any time.
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
