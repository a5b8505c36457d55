"""Child-process bodies for the store concurrency tests (importable under spawn)."""

from __future__ import annotations

import time

from journal.events import error_event
from journal.store.event_store import EventStore


def append_many(url: str, worker: int, total: int, batch: int) -> int:
    """Append ``total`` events in batches; return how many were inserted."""
    store = EventStore(url)
    inserted = 0
    source = f"worker-{worker}"
    try:
        for start in range(0, total, batch):
            events = [
                error_event("load", f"w{worker} #{i}", ts=1_800_000_000_000_000 + i, source=source)
                for i in range(start, min(total, start + batch))
            ]
            inserted += store.append(events)
    finally:
        store.close()
    return inserted


def follow_until(url: str, expected: int, deadline_s: float) -> list[tuple[int, str]]:
    """Poll ``follow`` until ``expected`` events were seen or the deadline passes."""
    store = EventStore(url)
    seen: list[tuple[int, str]] = []
    last = 0
    end = time.monotonic() + deadline_s
    try:
        while len(seen) < expected and time.monotonic() < end:
            new = store.follow(last, limit=2_000)
            for e in new:
                assert e.id is not None
                seen.append((e.id, e.event_id))
                last = e.id
            if not new:
                time.sleep(0.005)
    finally:
        store.close()
    return seen
