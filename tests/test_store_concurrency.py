"""Several processes appending into one journal; a follower that must never skip an event."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from journal.store.event_store import EventStore
from tests.store_workers import append_many, follow_until

pytestmark = pytest.mark.slow


def _run_writers(url: str, workers: int, each: int, batch: int) -> list[int]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        return pool.starmap(append_many, [(url, w, each, batch) for w in range(workers)])


def test_four_processes_append_exactly_100k(migrated_url: str) -> None:
    inserted = _run_writers(migrated_url, 4, 25_000, 500)
    assert inserted == [25_000] * 4
    store = EventStore(migrated_url)
    try:
        assert store.count() == 100_000
        ids = {e.event_id for e in store.read(batch_size=20_000)}
        assert len(ids) == 100_000
        for w in range(4):
            assert store.count(sources=[f"worker-{w}"]) == 25_000
    finally:
        store.close()


def test_follower_sees_every_event_once_with_concurrent_pg_writers(pg_url: str) -> None:
    from journal.store.migrate import upgrade

    upgrade(pg_url)
    ctx = mp.get_context("spawn")
    total = 4 * 5_000
    with ctx.Pool(5) as pool:
        follower = pool.apply_async(follow_until, (pg_url, total, 120.0))
        writers = [pool.apply_async(append_many, (pg_url, w, 5_000, 50)) for w in range(4)]
        assert [w.get(timeout=120) for w in writers] == [5_000] * 4
        seen = follower.get(timeout=150)
    ids = [i for i, _ in seen]
    assert len(seen) == total
    assert ids == sorted(ids) and len(set(ids)) == total  # strictly increasing: none twice
    assert len({eid for _, eid in seen}) == total
