"""Shared helpers for the monitor's tests: a fixed journal, waiting for workers, widget text.

(No tests here; the name keeps it with the monitor's test files.)
"""

from __future__ import annotations

from typing import Any

from journal.events import (
    Event,
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    to_us,
)

T0 = to_us(1_795_860_000.0)  # 2026-11-28T10:00:00Z (a whole minute)
S = 1_000_000
END = T0 + 600 * S  # the frozen wall clock of the tests: 10 minutes after T0


def fixed_events() -> list[Event]:
    """A small journal with known numbers (all times relative to `T0`).

    - errors: 12 ``TimeoutError`` on ``api_a`` at T0+10s..T0+65s (every 5 s): a burst;
      3 ``ValueError`` on ``api_b`` at T0+200s, +210s, +220s; 1 CRITICAL ``DiskFull`` at T0+300s.
    - breaker ``api_a``: CLOSED->OPEN at T0+70s, OPEN->HALF_OPEN at T0+130s,
      HALF_OPEN->CLOSED at T0+140s; tallies: 90 ok / 10 failed at T0+60s, 0/0/5 rejected at
      T0+120s, 100 ok at T0+400s.
    - breaker ``api_b``: 50 ok / 0 failed at T0+250s (CLOSED).
    - a store outage of writer w1 from T0+450s to T0+480s.
    """
    src = "test:1"
    out: list[Event] = []
    for i in range(12):
        out.append(
            error_event(
                "TimeoutError", f"timeout #{i}", name="api_a", ts=T0 + (10 + 5 * i) * S, source=src
            )
        )
    out.append(
        calls_event("api_a", successes=90, failures=10, rejected=0, ts=T0 + 60 * S, source=src)
    )
    out.append(breaker_event("api_a", "CLOSED", "OPEN", ts=T0 + 70 * S, source=src))
    out.append(
        calls_event("api_a", successes=0, failures=0, rejected=5, ts=T0 + 120 * S, source=src)
    )
    out.append(breaker_event("api_a", "OPEN", "HALF_OPEN", ts=T0 + 130 * S, source=src))
    out.append(breaker_event("api_a", "HALF_OPEN", "CLOSED", ts=T0 + 140 * S, source=src))
    for k in range(3):
        out.append(
            error_event(
                "ValueError",
                f"bad value {k}",
                name="api_b",
                ts=T0 + (200 + 10 * k) * S,
                source=src,
                context={"symbol": "SOL/USDT", "k": k},
            )
        )
    out.append(
        calls_event("api_b", successes=50, failures=0, rejected=0, ts=T0 + 250 * S, source=src)
    )
    out.append(
        error_event(
            "DiskFull",
            "disk is full",
            name="writer",
            severity="CRITICAL",
            ts=T0 + 300 * S,
            source=src,
        )
    )
    out.append(
        calls_event("api_a", successes=100, failures=0, rejected=0, ts=T0 + 400 * S, source=src)
    )
    out.append(journal_event("store_unavailable", "down", ts=T0 + 450 * S, source="w1"))
    out.append(
        journal_event(
            "store_recovered",
            "back",
            context={"outage_seconds": 30.0},
            ts=T0 + 480 * S,
            source="w1",
        )
    )
    return out


def seed(url: str, events: list[Event] | None = None) -> None:
    """Migrate ``url`` and append ``events`` (default: `fixed_events`)."""
    from journal.store.event_store import EventStore
    from journal.store.migrate import upgrade

    upgrade(url)
    with EventStore(url) as store:
        store.append(fixed_events() if events is None else events)


async def settle(pilot: Any, rounds: int = 3) -> None:
    """Let timers fire and workers finish, then let their messages land."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


def text_of(widget: Any) -> str:
    """The plain text a `Static` shows."""
    content = widget.content
    return str(getattr(content, "plain", content))


def table_rows(table: Any) -> list[list[str]]:
    """A `DataTable`'s cells as plain strings."""
    rows = []
    for i in range(table.row_count):
        rows.append([str(getattr(c, "plain", c)) for c in table.get_row_at(i)])
    return rows
