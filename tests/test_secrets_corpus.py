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
from journal.sanitizing.redaction import RedactingFilter
from journal.writing.spool import Spool
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
    from journal.store.migrate import upgrade

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


def test_no_planted_secret_reaches_breaker_stats_status_or_exports(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from journal.resilience.breaker import CircuitBreaker

    db = tmp_path / "journal.db"
    url = f"sqlite:///{db}"
    j = journal.configure(url, source="corpus:1", spool_dir=tmp_path / "spool", flush_interval=0.05)
    stats: list[str] = []
    try:
        _plant_everything(j)
        breaker = CircuitBreaker("corpus_breaker", failure_threshold=10_000)
        for p in corpus.PLANTINGS:
            text = str(p.error) if p.error is not None else repr(p.context)

            def fail(message: str = text) -> None:
                raise RuntimeError(message)

            with pytest.raises(RuntimeError):
                breaker.call(fail)
            stats.append(json.dumps(breaker.get_stats(), default=str))
        summary = json.dumps(j.tracker.get_error_summary(), default=str)
        assert journal.flush(30)
    finally:
        journal.shutdown(30)
    assert len(stats) == len(corpus.PLANTINGS)
    assert corpus.leaks("\n".join(stats)) == []
    assert corpus.leaks(summary) == []

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "journal", *args, "--db", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    outputs = {
        "status": cli("status", "--recent", "1000"),
        "export json": cli("export", "-o", str(tmp_path / "all.json")),
        "export jsonl": cli("export", "-o", str(tmp_path / "all.jsonl")),
    }
    outputs["json file"] = (tmp_path / "all.json").read_text(encoding="utf-8")
    outputs["jsonl file"] = (tmp_path / "all.jsonl").read_text(encoding="utf-8")
    assert len(outputs["jsonl file"].splitlines()) > len(corpus.PLANTINGS)
    assert "BTC/USDT" in outputs["json file"]  # ordinary fields stay readable in exports
    for name, out in outputs.items():
        assert corpus.leaks(out) == [], name
