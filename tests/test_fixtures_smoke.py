"""The shared fixtures give a migrated, empty events table on both dialects."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, pool


def test_migrated_url_has_events_table(migrated_url: str) -> None:
    engine = create_engine(migrated_url, poolclass=pool.NullPool)
    try:
        assert "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
