"""The monitor's database work: every function here blocks, so the UI calls them in workers.

One `JournalSource` per app wraps one `EventStore`. Folding uses the core's replay and
snapshots exactly as ``journal status`` does, so the board as of any moment equals
``journal status --at`` at that moment.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from journal.dashboard import WriterFold
from journal.events import Event
from journal.projections.state import JournalState
from journal.store.event_store import EventStore, map_db_error
from journal.store.schema import events as events_table

from .model import EventFilter

FOLLOW_BATCH = 10_000


class _ProgressStore(EventStore):
    """An `EventStore` whose reads note the id of the newest event handed out (for progress)."""

    progress_id = 0

    def read(self, **kw: Any) -> Iterator[Event]:
        return self._noted(super().read(**kw))

    def _noted(self, events: Iterator[Event]) -> Iterator[Event]:
        for n, e in enumerate(events, 1):
            if not n & 1023 and e.id is not None:
                self.progress_id = e.id
            yield e


@dataclass(frozen=True, slots=True)
class Folded:
    """A fold of the journal: the projections and the writers' own history."""

    state: JournalState
    writer: WriterFold


class JournalSource:
    """Blocking reads for the monitor (call from thread workers)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.store: _ProgressStore = _ProgressStore(url)

    def close(self) -> None:
        """Release the pooled connections."""
        self.store.close()

    # ------------------------------------------------------------ folding

    def fold_until(self, at: int | None) -> Folded:
        """Everything with ``ts <= at`` (all, for None) folded, as ``journal status`` does."""
        from journal.history.replay import replay
        from journal.history.snapshots import CLI_POLICY

        store = self.store
        store.progress_id = 0
        until = None if at is None else at + 1
        state = replay(store, until=until, snapshots=CLI_POLICY)
        writer = WriterFold()
        before = None if state.last_id is None else state.last_id + 1
        for e in store.read(kinds=["journal"], until=until, before_id=before):
            writer.apply(e)
        return Folded(state, writer)

    def follow(self, folded: Folded, after_id: int) -> tuple[int, int]:
        """Fold the events appended after ``after_id``; (new last id, events folded)."""
        state, writer, store = folded.state, folded.writer, self.store
        n = 0
        while True:
            batch = store.follow(after_id, limit=FOLLOW_BATCH)
            for e in batch:
                state.apply(e)
                writer.apply(e)
            n += len(batch)
            if batch:
                after_id = max(after_id, batch[-1].id or after_id)
            if len(batch) < FOLLOW_BATCH:
                return after_id, n

    def span(self) -> tuple[int, int] | None:
        """(oldest ts, newest ts), or None for an empty journal."""
        return self.store.span()

    def latest_id(self) -> int:
        """The newest id (0 when empty)."""
        return self.store.latest_id()

    # ------------------------------------------------------------ time travel

    def neighbour_ts(self, at: int, forward: bool, kind: str | None = None) -> int | None:
        """The nearest event time after (``forward``) or before ``at``, of ``kind`` if given."""
        col = events_table.c.ts
        q = select(func.min(col) if forward else func.max(col)).where(
            col > at if forward else col < at
        )
        if kind is not None:
            q = q.where(events_table.c.kind == kind)
        value = self._scalar(q)
        return None if value is None else int(value)

    # ------------------------------------------------------------ the events list

    def count(self, f: EventFilter, before_id: int) -> int:
        """How many events match, among those with ``id < before_id``."""
        return self.store.count(**f.store_filters(), before_id=before_id)

    def page(
        self, f: EventFilter, before_id: int, *, offset: int = 0, limit: int = 256
    ) -> list[Event]:
        """Matching events, newest first, with ``id < before_id``, skipping ``offset``.

        Keyset when the caller knows the boundary (``offset`` 0); an offset only for a jump.
        The store's own filters: the list shows what ``journal export`` of it would write.
        """
        return list(
            self.store.read(
                **f.store_filters(),
                before_id=before_id,
                offset=offset,
                limit=limit,
                batch_size=limit,
                descending=True,
            )
        )

    def export(self, f: EventFilter, path: str) -> str:
        """Write the filter's events to ``path`` through ``journal export``; its summary line."""
        from journal.cli.export import cmd_export

        args = argparse.Namespace(
            db=self.url,
            output=path,
            format=None,
            since=_iso(f.since),
            until=_iso(f.until),
            kind=list(f.kinds) or None,
            name=list(f.names) or None,
            error_type=list(f.error_types) or None,
            severity=list(f.severities) or None,
            source=list(f.sources) or None,
            text=f.text or None,
            incident=None,
        )
        said = io.StringIO()
        with redirect_stderr(said):
            cmd_export(args)
        return said.getvalue().strip()

    # ------------------------------------------------------------ incidents

    def incidents(self, until: int) -> Any:
        """`journal incidents` over the whole journal up to ``until`` (a `Report`)."""
        from journal.history.incident_report import collect

        return collect(self.store, None, until)

    def context_text(self, e: Event) -> str:
        """The event's context, pretty-printed JSON."""
        try:
            return json.dumps(json.loads(e.context_json), indent=2, ensure_ascii=False)
        except ValueError:
            return e.context_json

    def _scalar(self, q: Any) -> Any:
        try:
            with self.store.engine.connect() as conn:
                return conn.execute(q).scalar()
        except Exception as exc:
            raise map_db_error(exc, self.url) from None


def _iso(us: int | None) -> str | None:
    from journal.events import iso

    return None if us is None else iso(us)
