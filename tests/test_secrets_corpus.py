"""Planted secrets in every shape never reach the store, the spool or the logs; ordinary fields do.

The corpus lives in `tests/secrets_corpus.py` (importable: other outputs reuse it). Each test
routes it through the public API into a real database and greps what was written, as bytes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

import journal
from journal.events import Event
from journal.redaction import RedactingFilter
from journal.spool import Spool
from tests import secrets_corpus as corpus


def test_the_corpus_is_large_and_every_token_unique() -> None:
    tokens = [s.token for s in corpus.SECRETS]
    assert len(tokens) >= 100
    assert len(set(tokens)) == len(tokens)
    assert len({s.marker for s in corpus.SECRETS}) == len(tokens)
    # The negatives hold no marker (else a leak check would be meaningless).
    assert corpus.leaks(repr(corpus.NEGATIVES)) == []


def _plant_everything(j: journal.Journal) -> list[Event]:
    events: list[Event] = corpus.plant(journal.record_error)
    for e in corpus.other_events():
        j.publish(e)
        events.append(e)
    negative = journal.record_error(
        "negatives", corpus.negative_message(), corpus.negative_context()
    )
    events.append(negative)
    return events


def _assert_negatives_readable(e: Event) -> None:
    assert e.context == corpus.NEGATIVES
    assert e.message == corpus.negative_message()


def _raw(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.exists())


def test_no_planted_secret_reaches_sqlite_its_wal_the_spool_or_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "journal.db"
    caplog.set_level(logging.DEBUG)
    j = journal.configure(
        f"sqlite:///{db}", source="corpus:1", spool_dir=tmp_path / "spool", flush_interval=0.05
    )
    try:
        events = _plant_everything(j)
        assert journal.flush(30)
        assert len(events) == len(corpus.PLANTINGS) + len(corpus.OTHERS) + 1
        # Force a spool of the very same events.
        spool = Spool(tmp_path / "forced-spool")
        spool.append(events)
        assert spool.path is not None
        spool_bytes = spool.path.read_bytes()
        spool.close()
        live = _raw([db, db.with_name(db.name + "-wal")])
    finally:
        journal.shutdown(30)
    after = _raw([db, db.with_name(db.name + "-wal")])
    assert len(spool_bytes) > 10_000 and len(after) > 10_000
    assert corpus.leaks(live) == []
    assert corpus.leaks(after) == []
    assert corpus.leaks(spool_bytes) == []
    assert corpus.leaks(caplog.text) == []

    engine = create_engine(f"sqlite:///{db}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, context, message FROM events")).all()
    engine.dispose()
    assert {r[0] for r in rows} >= {e.event_id for e in events}
    stored = {r[0]: r for r in rows}
    negative = events[-1]
    assert stored[negative.event_id][2] == corpus.negative_message()
    _assert_negatives_readable(negative)


def test_no_planted_secret_reaches_postgresql(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from journal.migrate import upgrade

    upgrade(pg_url)
    caplog.set_level(logging.DEBUG)
    j = journal.configure(pg_url, source="corpus:1", flush_interval=0.05)
    try:
        events = _plant_everything(j)
        assert journal.flush(30)
    finally:
        journal.shutdown(30)
    engine = create_engine(pg_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        # The whole row as text: every column, the JSONB context included.
        rows = [r[0] for r in conn.execute(text("SELECT events::text FROM events"))]
        negative = conn.execute(
            text("SELECT message, context::text FROM events WHERE event_id = :id"),
            {"id": events[-1].event_id},
        ).one()
    engine.dispose()
    assert len(rows) >= len(events)
    assert corpus.leaks("\n".join(rows)) == []
    assert corpus.leaks(caplog.text) == []
    assert negative[0] == corpus.negative_message()
    for value in corpus.NEGATIVES.values():
        assert str(value) in negative[1]


def test_redacting_filter_scrubs_every_planted_message_in_log_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    corpus.register_literals()
    log = logging.getLogger("corpus.filter")
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="corpus.filter"):
            for p in corpus.PLANTINGS:
                log.info("recording %s with %r", p.error, p.context)
                try:
                    raise RuntimeError(str(p.error))
                except RuntimeError:
                    log.exception("failed: %s", p.error_type)
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert "recording" in caplog.text and "Traceback" in caplog.text
    assert corpus.leaks(caplog.text) == []
