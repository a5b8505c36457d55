"""What the monitor shows, as frozen data: a board as of a moment, and the events filter.

Pure: built from the core's `JournalState` / `WriterFold` and a time; no IO, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from journal.dashboard import WriterFold, WriterLife
from journal.projections.rolling import SECOND_US
from journal.projections.state import JournalSnapshot, JournalState

SPARK_MINUTES = 15  # the rolling counts keep 15 minutes: one bar per minute


@dataclass(frozen=True, slots=True)
class Board:
    """The dashboard as of ``at``: the snapshot, the writers' life and errors per minute."""

    at: int | None
    snap: JournalSnapshot
    writer: WriterLife
    newest_ts: int | None
    newest_id: int | None
    per_minute: tuple[int, ...]  # errors in each of the last minutes, oldest first

    @property
    def empty(self) -> bool:
        """True when nothing at all has been folded."""
        return self.snap.events_seen == 0


def build_board(state: JournalState, writer: WriterFold, at: int | None) -> Board:
    """The board of ``state`` as of ``at`` (None: the newest event time)."""
    snap = state.snapshot(at)
    ref = snap.at if snap.at is not None else 0
    sec = ref // SECOND_US
    series = state.per_second
    per_minute = tuple(series.count(sec - 60 * m, 60) for m in range(SPARK_MINUTES - 1, -1, -1))
    return Board(snap.at, snap, writer.result(), state.newest_ts, state.last_id, per_minute)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The Events screen's filter; empty fields match everything."""

    kinds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    error_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    text: str = ""
    since: int | None = None  # inclusive, microseconds UTC
    until: int | None = None  # exclusive

    def store_filters(self) -> dict[str, Any]:
        """The filters as `EventStore.read` / `count` keywords."""
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = self.text
        for key in ("kinds", "names", "severities", "error_types", "sources"):
            values = getattr(self, key)
            if values:
                out[key] = list(values)
        if self.since is not None:
            out["since"] = self.since
        if self.until is not None:
            out["until"] = self.until
        return out

    def describe(self) -> str:
        """One line for people: what is filtered."""
        bits = [
            f"{label}={','.join(values)}"
            for label, values in (
                ("kind", self.kinds),
                ("name", self.names),
                ("severity", self.severities),
                ("error_type", self.error_types),
                ("source", self.sources),
            )
            if values
        ]
        if self.text:
            bits.append(f"text~{self.text!r}")
        from journal.events import iso

        if self.since is not None:
            bits.append(f"since {iso(self.since)[:19]}")
        if self.until is not None:
            bits.append(f"until {iso(self.until)[:19]}")
        return "; ".join(bits) if bits else "all events"


def split_values(raw: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(v.strip() for v in raw.split(",") if v.strip())
