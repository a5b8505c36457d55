"""EventStore contract: the same tests on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import psycopg2
import psycopg2.errors
import pytest

from journal.errors import ConfigError, SchemaNotReady, StoreDataError, StoreError, StoreUnavailable
from journal.events import (
    Event,
    alert_event,
    breaker_event,
    calls_event,
    error_event,
    retry_event,
    to_us,
)
from journal.store.event_store import EventStore, map_db_error

T0 = to_us(datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone.utc))


def _same(a: Event, b: Event) -> bool:
    """Equal events: every field, context compared decoded (JSONB re-formats the text)."""
    return a._replace(context_json="") == b._replace(context_json="") and a.context == b.context


@pytest.fixture
def store(migrated_url: str):
    s = EventStore(migrated_url)
    yield s
    s.close()


def _mixed(n: int, t0: int = T0, source: str = "host:1") -> list[Event]:
    out: list[Event] = []
    for i in range(n):
        ts = t0 + i * 1_000_000
        if i % 4 == 0:
            out.append(
                error_event("api_error", f"boom {i}", name=f"ep{i % 3}", ts=ts, source=source)
            )
        elif i % 4 == 1:
            out.append(
                retry_event(
                    f"ep{i % 3}",
                    attempt=1 + i % 5,
                    delay=0.5,
                    error_type="Timeout",
                    ts=ts,
                    source=source,
                )
            )
        elif i % 4 == 2:
            out.append(
                calls_event(f"ep{i % 3}", successes=3, failures=1, rejected=0, ts=ts, source=source)
            )
        else:
            out.append(
                error_event("db_error", f"lost {i}", severity="WARNING", ts=ts, source=source)
            )
    return out


def test_every_field_survives_a_round_trip(store: EventStore) -> None:
    originals = [
        error_event(
            "api_error",
            "ünïcode ✓ — 日本語",
            severity="CRITICAL",
            name="binance_ohlcv",
            context={
                "nested": {"list": [1, 2.5, None, "x"], "deep": {"a": True}},
                "symbol": "SOL/USDT",
            },
            ts=T0,
            source="collector-7:42",
        ),
        retry_event("fetch", 3, 4.25, error_type="TimeoutError", message=None, ts=T0 + 1),
        breaker_event("binance_oi", "HALF_OPEN", "OPEN", ts=T0 + 2),
        alert_event("error_count", "api_error", "11 errors in 5 min", ts=T0 + 3),
    ]
    assert store.append(originals) == 4
    back = list(store.read())
    assert [e.id for e in back] == sorted(e.id for e in back)
    for orig, got in zip(originals, back, strict=True):
        assert got.id is not None
        assert _same(orig._replace(id=got.id), got)
    assert back[0].time == datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone.utc)


def test_reappending_a_batch_adds_nothing(store: EventStore) -> None:
    batch = _mixed(50)
    assert store.append(batch) == 50
    assert store.append(batch) == 0
    fresh = _mixed(10, t0=T0 + 10**9)
    assert store.append(batch[:20] + fresh) == 10
    assert store.count() == 60


def test_append_of_nothing_is_zero(store: EventStore) -> None:
    assert store.append([]) == 0
    assert store.latest_id() == 0
    assert store.span() is None


def test_read_filters(store: EventStore) -> None:
    events = _mixed(40) + _mixed(8, t0=T0 + 10**9, source="other:2")
    store.append(events)
    assert store.count() == 48
    # 40 events at T0 + i s: kinds cycle error, retry, calls, error(WARNING)
    assert store.count(kinds=["error"]) == 20 + 4
    assert store.count(kinds=["retry", "calls"]) == 20 + 4
    assert store.count(severities=["WARNING"]) == 10 + 2
    assert store.count(sources=["other:2"]) == 8
    assert store.count(names=["db_error"]) == 12
    assert store.count(since=T0 + 10_000_000, until=T0 + 20_000_000) == 10
    since = list(store.read(since=datetime.fromtimestamp((T0 + 39_000_000) / 1e6, timezone.utc)))
    assert len(since) == 1 + 8
    first5 = list(store.read(limit=5))
    assert [e.ts for e in first5] == [T0 + i * 1_000_000 for i in range(5)]
    last3 = list(store.read(limit=3, descending=True))
    assert [e.id for e in last3] == sorted((e.id for e in last3), reverse=True)
    mid = first5[2].id
    assert [e.id for e in store.read(after_id=mid, limit=2)] == [first5[3].id, first5[4].id]
    assert [e.id for e in store.read(before_id=mid)] == [first5[0].id, first5[1].id]
    assert store.count(kinds=[]) == 0
    assert store.latest_id() == max(e.id for e in store.read())  # type: ignore[type-var]
    assert store.span() == (T0, T0 + 10**9 + 7_000_000)


def test_read_is_lazy_and_pages_in_batches(store: EventStore) -> None:
    store.append(_mixed(5_000))
    it = store.read(batch_size=1_000)
    head = [next(it) for _ in range(10)]
    assert [e.ts for e in head] == [T0 + i * 1_000_000 for i in range(10)]
    rest = sum(1 for _ in it)
    assert rest == 4_990
    # small batches reach every row exactly once, in order
    ids = [e.id for e in store.read(batch_size=7)]
    assert len(ids) == 5_000 and ids == sorted(set(ids))  # type: ignore[type-var]


def test_follow_returns_new_events_in_order(store: EventStore) -> None:
    store.append(_mixed(10))
    last = store.latest_id()
    assert store.follow(last) == []
    store.append(_mixed(5, t0=T0 + 10**9))
    new = store.follow(last)
    assert len(new) == 5 and all(e.id > last for e in new)  # type: ignore[operator]
    assert store.follow(last, limit=2) == new[:2]


def test_unmigrated_database_says_run_journal_migrate(db_url: str) -> None:
    s = EventStore(db_url)
    with pytest.raises(SchemaNotReady, match="run: journal migrate"):
        s.count()
    s.close()


def test_unreachable_postgres_is_store_unavailable() -> None:
    s = EventStore("postgresql+psycopg2://postgres@127.0.0.1:1/nothing")
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1"):
        s.ping()
    with pytest.raises(StoreUnavailable):
        s.append(_mixed(1))
    s.close()


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        EventStore("nonsense")
    with pytest.raises(ConfigError, match="unsupported"):
        EventStore("mysql://x@localhost/db")


def _sqlite_error(sql: str, params: tuple[object, ...] = ()) -> BaseException:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a TEXT NOT NULL UNIQUE)")
    conn.execute("INSERT INTO t VALUES ('x')")
    try:
        conn.execute(sql, params)
    except BaseException as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError(f"{sql} did not fail")


# (what the driver raised, what the journal says). Made by hand from the drivers' classes;
# the real-database rows below check the same mapping on errors the servers raise.
MAPPING = [
    (sqlite3.OperationalError("database is locked"), StoreUnavailable),
    (sqlite3.OperationalError("unable to open database file"), StoreUnavailable),
    (sqlite3.OperationalError("disk I/O error"), StoreUnavailable),
    (sqlite3.OperationalError("no such table: events"), SchemaNotReady),
    (sqlite3.OperationalError("database disk image is malformed"), StoreError),
    (sqlite3.IntegrityError("NOT NULL constraint failed: events.name"), StoreDataError),
    (sqlite3.IntegrityError("CHECK constraint failed"), StoreDataError),
    (
        sqlite3.InterfaceError("Error binding parameter 6 - probably unsupported type"),
        StoreDataError,
    ),
    (sqlite3.DataError("string or blob too big"), StoreDataError),
    (
        sqlite3.ProgrammingError("Error binding parameter 6: type 'list' is not supported"),
        StoreDataError,
    ),
    (sqlite3.ProgrammingError("Cannot operate on a closed database."), StoreError),
    (psycopg2.OperationalError("connection refused"), StoreUnavailable),
    (psycopg2.InterfaceError("connection already closed"), StoreUnavailable),
    (psycopg2.errors.StringDataRightTruncation("value too long"), StoreDataError),
    (psycopg2.errors.CharacterNotInRepertoire("invalid byte sequence: 0x00"), StoreDataError),
    (psycopg2.errors.UntranslatableCharacter("unsupported Unicode escape"), StoreDataError),
    (psycopg2.errors.NumericValueOutOfRange("out of range for type bigint"), StoreDataError),
    (psycopg2.errors.NotNullViolation("null value in column"), StoreDataError),
    (psycopg2.errors.CheckViolation("violates check constraint"), StoreDataError),
    (psycopg2.DataError("bad value"), StoreDataError),
    (psycopg2.IntegrityError("constraint"), StoreDataError),
    (psycopg2.ProgrammingError("can't adapt type 'object'"), StoreDataError),
    (psycopg2.errors.UndefinedTable('relation "events" does not exist'), SchemaNotReady),
    (TypeError("unsupported type"), StoreDataError),
    (ValueError("bad value"), StoreDataError),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), StoreDataError),
    (OverflowError("Python int too large to convert to SQLite INTEGER"), StoreDataError),
    (ConnectionResetError("reset by peer"), StoreUnavailable),
    (RuntimeError("something else"), StoreError),
]


@pytest.mark.parametrize(("raised", "expected"), MAPPING, ids=lambda v: repr(v)[:60])
def test_driver_error_mapping_row(raised: BaseException, expected: type[StoreError]) -> None:
    url = "postgresql+psycopg2://u:hunter2@h/db"
    got = map_db_error(raised, url)
    assert type(got) is expected
    assert "hunter2" not in str(got)


def test_real_sqlite_errors_map_to_data_errors() -> None:
    for sql, params in [
        ("INSERT INTO t VALUES (NULL)", ()),
        ("INSERT INTO t VALUES ('x')", ()),
        ("INSERT INTO t VALUES (?)", (["a list"],)),
        ("INSERT INTO t VALUES (?)", (object(),)),
        ("INSERT INTO t VALUES (?)", (2**70,)),
        ("INSERT INTO t VALUES (?)", ("\ud800",)),
    ]:
        assert type(map_db_error(_sqlite_error(sql, params), "sqlite://")) is StoreDataError, sql
    locked = sqlite3.OperationalError("database is locked")
    assert type(map_db_error(locked, "sqlite://")) is StoreUnavailable


def test_real_postgres_errors_map(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(pg_url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    cases: list[tuple[str, tuple[object, ...], type[StoreError]]] = [
        ("SELECT 1/0", (), StoreDataError),
        ("SELECT 'abc'::int", (), StoreDataError),
        (
            "CREATE TEMP TABLE v (a varchar(2)); INSERT INTO v VALUES (%s)",
            ("long",),
            StoreDataError,
        ),
        ("SELECT %s::text", ("a\x00b",), StoreDataError),
        ('SELECT \'{"a":"\\u0000"}\'::jsonb::text', (), StoreDataError),
        ("CREATE TEMP TABLE t (a int NOT NULL); INSERT INTO t VALUES (NULL)", (), StoreDataError),
        ("SELECT %s", (object(),), StoreDataError),
        ("SELECT * FROM no_such_table_here", (), SchemaNotReady),
        ("SELEKT 1", (), StoreError),
    ]
    try:
        for sql, params, expected in cases:
            cur = conn.cursor()
            with pytest.raises(Exception) as info:
                cur.execute(sql, params)
            conn.rollback()
            assert type(map_db_error(info.value, pg_url)) is expected, sql
    finally:
        conn.close()
    down = EventStore("postgresql+psycopg2://postgres@127.0.0.1:1/nothing")
    with pytest.raises(StoreUnavailable):
        down.ping()
    down.close()
