"""Rows the store refuses are set aside, never an outage: real SQLite files and real PostgreSQL.

The bad events are raw `Event` tuples that bypass the constructors (which normalise fields),
as a buggy caller or an old spool file could hand the writer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from journal.events import Event, error_event, new_event_id
from journal.store.event_store import EventStore
from journal.writing.deadletter import FILENAME, read_dead_letters
from journal.writing.spool import Spool
from journal.writing.writer import BufferedWriter

ROOT = Path(__file__).resolve().parent.parent
T = 1_800_000_000_000_000
DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/nothing"
GOOD = 3000


def raw(i: int, **fields: object) -> Event:
    """A raw event (no constructor) with source "bad", overriding ``fields``."""
    base = Event(None, new_event_id(), T + i, "error", "bad", "x", "t", "ERROR", "m")
    return base._replace(**fields)


# What each dialect refuses (PostgreSQL stores a list or an object as its text).
BAD = {
    "sqlite": {
        "list_error_type": {"error_type": ["a", "list"]},
        "object_error_type": {"error_type": object()},
        "lone_surrogate_message": {"message": "a\ud800b"},
        "null_name": {"name": None},
        "huge_int_attempt": {"attempt": 2**70},
    },
    "postgresql": {
        "error_type_300_chars": {"error_type": "x" * 300},
        "breaker_name_300_chars": {"name": "b" * 300},
        "nul_in_message": {"message": "a\x00b"},
        "nul_in_context_value": {"context_json": '{"k":"\\u0000"}'},
        "raw_nul_in_context": {"context_json": '{"k":"a\x00"}'},
        "lone_surrogate_context": {"context_json": '{"k":"\ud800"}'},
        "context_not_json": {"context_json": "{nope"},
        "ts_out_of_range": {"ts": 10**30},
    },
}
CASES = [(d, k) for d, kinds in BAD.items() for k in kinds]


def writer(store: EventStore, spool: Path | None, **kw: object) -> BufferedWriter:
    holder: list[BufferedWriter] = []
    kw.setdefault("flush_interval", 0.05)
    kw.setdefault("retry_initial", 0.05)
    w = BufferedWriter(store, spool_dir=spool, emit=lambda e: holder[0].submit(e), **kw)  # type: ignore[arg-type]
    holder.append(w)
    return w


def good(n: int, source: str = "good:1", start: int = 0) -> list[Event]:
    return [error_event("g", f"e{i}", ts=T + i, source=source) for i in range(start, start + n)]


def with_bad(kind: str, dialect: str, positions: tuple[int, ...] = (7, 1500, 2999)) -> tuple[
    list[Event], list[Event]
]:  # fmt: skip
    """GOOD good events with a bad one inserted before each of ``positions``."""
    fields = BAD[dialect][kind]
    goods = good(GOOD)
    bads = [raw(p, **fields) for p in positions]
    mixed: list[Event] = []
    for i, e in enumerate(goods):
        if i in positions:
            mixed.append(bads[positions.index(i)])
        mixed.append(e)
    return mixed, bads


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def check_outcome(store: EventStore, goods: int, bads: list[Event], spool: Path) -> None:
    got = list(store.read(sources=["good:1"]))
    assert len(got) == goods and len({e.event_id for e in got}) == goods  # each once
    assert [e.ts for e in got] == sorted(e.ts for e in got)  # in submission order
    assert store.count(sources=["bad"]) == 0
    letters = list(read_dead_letters(spool / "deadletter" / FILENAME))
    assert sorted(r["event"]["event_id"] for r in letters) == sorted(e.event_id for e in bads)
    assert all(r["reason"] for r in letters)
    assert store.count(kinds=["journal"], names=["store_unavailable"]) == 0
    rejected = list(store.read(kinds=["journal"], names=["event_rejected"]))
    assert rejected and sum(e.context["count"] for e in rejected) == len(bads)


@pytest.mark.parametrize(("dialect", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_a_bad_event_amid_thousands_is_dead_lettered_and_the_rest_stored(
    dialect: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from journal.store.migrate import upgrade

    url = str(request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "pg_url"))
    upgrade(url)
    store = EventStore(url)
    spool = tmp_path / "spool"
    w = writer(store, spool)
    mixed, bads = with_bad(kind, dialect)
    for e in mixed:
        w.submit(e)
    assert w.flush(60), w.last_flush_problem
    st = w.stats()
    assert st.dead_lettered == len(bads) and st.dropped == 0 and st.outages == 0
    assert w.close(10)
    check_outcome(store, GOOD, bads, spool)
    assert list(spool.glob("*.spool")) == []
    store.close()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_spool_holding_refused_records_drains_the_rest_in_another_process(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A spool left with refused records: a new process stores the rest, flush() is True."""
    from journal.store.migrate import upgrade

    url = str(request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "pg_url"))
    upgrade(url)
    spool = tmp_path / "spool"
    mixed = good(GOOD)
    # (An object is spooled as its text, which the store then accepts: tested below.)
    refused = [f for k, f in BAD[dialect].items() if k != "object_error_type"]
    bads = [raw(j, **fields) for j, fields in enumerate(refused)]
    for j, b in enumerate(bads):
        mixed.insert(j * 300 + 5, b)
    # Written by a process that died: one spool file, lock free.
    old = Spool(spool)
    old.append(mixed)
    old.close()
    script = (
        "import sys, time\n"
        "from journal.store.event_store import EventStore\n"
        "from journal.writing.writer import BufferedWriter\n"
        "h = []\n"
        "w = BufferedWriter(EventStore(sys.argv[1]), spool_dir=sys.argv[2], flush_interval=0.05,\n"
        "                   emit=lambda e: h[0].submit(e))\n"
        "h.append(w)\n"
        "deadline = time.monotonic() + 60\n"
        "while w.stats().orphans_drained < int(sys.argv[3]) and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
        "ok = w.flush(30)\n"
        "st = w.stats()\n"
        "print(ok, st.orphans_drained, st.dead_lettered, st.outages, w.close(10))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, url, str(spool), str(len(mixed))],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", str(len(mixed)), str(len(bads)), "0", "True"]
    store = EventStore(url)
    check_outcome(store, GOOD, bads, spool)
    assert list(spool.glob("*.spool")) == [] and list(spool.glob("*.quarantine")) == []
    # The next process on the same spool has nothing left to trip on.
    w = writer(store, spool)
    for e in good(100, source="later:1"):
        w.submit(e)
    assert w.flush(20) and w.close(5)
    assert store.count(sources=["later:1"]) == 100 and w.stats().dead_lettered == 0
    store.close()


def test_events_the_spool_cannot_encode_natively_are_spooled_not_lost(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A lone surrogate or an object in an event during an outage: spooled, nothing vanishes."""
    from journal.store.migrate import upgrade

    spool = tmp_path / "spool"
    down = BufferedWriter(
        EventStore(DOWN),
        spool_dir=spool,
        flush_interval=0.02,
        retry_attempts=1,
        emit=lambda e: None,
    )
    goods = good(1000)
    odd = [raw(1, message="a\ud800"), raw(2, error_type=object()), raw(3, context_json="{\udfff}")]
    for i, e in enumerate(goods):
        down.submit(e)
        if i in (10, 500, 990):
            down.submit(odd[(10, 500, 990).index(i)])
    deadline = time.monotonic() + 20
    while down.stats().spooled < 1003 and time.monotonic() < deadline:
        time.sleep(0.02)
    st = down.stats()
    assert (st.spooled, st.dropped, st.queued) == (1003, 0, 0)
    assert not down.flush(0.2) and "store unavailable" in (down.last_flush_problem or "")
    down.close(1)
    upgrade(sqlite_url)
    store = EventStore(sqlite_url)
    w = writer(store, spool)
    deadline = time.monotonic() + 20
    while w.stats().orphans_drained < 1003 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.flush(10) and w.close(5)
    assert store.count(sources=["good:1"]) == 1000
    # The object came back as its text, which SQLite stores; the surrogates are refused.
    assert store.count(sources=["bad"]) == 1
    letters = list(read_dead_letters(spool / "deadletter" / FILENAME))
    assert sorted(r["event"]["event_id"] for r in letters) == sorted(
        [odd[0].event_id, odd[2].event_id]
    )
    assert letters[0]["event"]["message"] == "a\ud800"  # kept, escaped in the file
    store.close()


class Rogue:
    """A real store that raises a BaseException from inside one append."""

    def __init__(self, store: EventStore, exc: BaseException, on_call: int) -> None:
        self.store, self.exc, self.on_call, self.calls = store, exc, on_call, 0

    def append(self, events: list[Event]) -> int:
        self.calls += 1
        if self.calls == self.on_call:
            self.store.append(events[: len(events) // 2])  # half the batch got through
            raise self.exc
        return self.store.append(events)

    def ping(self) -> None:
        self.store.ping()


class Interrupt(BaseException):
    """Like KeyboardInterrupt: not an Exception."""


@pytest.mark.parametrize("exc", [SystemExit(3), Interrupt("boom")], ids=["SystemExit", "custom"])
def test_the_writer_thread_survives_a_base_exception_mid_batch(
    migrated_url: str, tmp_path: Path, exc: BaseException
) -> None:
    store = EventStore(migrated_url)
    w = writer(Rogue(store, exc, on_call=3), tmp_path / "spool", batch_size=100)  # type: ignore[arg-type]
    evs = good(2000)
    for e in evs:
        w.submit(e)
    assert w.flush(30), w.last_flush_problem
    st = w.stats()
    assert st.restarts == 1 and st.dropped == 0 and st.outages == 0
    assert w._thread.is_alive()
    for e in good(500, start=2000):
        w.submit(e)
    assert w.close(10)
    got = list(store.read(sources=["good:1"]))
    assert len(got) == 2500 and len({e.event_id for e in got}) == 2500  # each once
    assert [e.event_id for e in got[:2000]] == [e.event_id for e in evs]  # in order
    store.close()


def test_a_spool_raising_anything_loses_nothing_silently(tmp_path: Path) -> None:
    """Whatever the spool raises, events stay in memory or are counted as dropped."""
    w = BufferedWriter(EventStore(DOWN), spool_dir=tmp_path / "spool", flush_interval=0.02,
                       retry_attempts=1, batch_size=50, max_memory_events=300, emit=lambda e: None)  # fmt: skip
    assert w.spool is not None
    calls = []

    def broken(events: object) -> int:
        calls.append(1)
        raise RuntimeError("not a SpoolError")

    w.spool.append = broken  # type: ignore[method-assign]
    for e in good(1000):
        w.submit(e)
    deadline = time.monotonic() + 10
    # Until the outage is declared, a batch may be in hand (in neither count): wait for it.
    while (calls == [] or w.stats().queued > 300 or not w.stats().outage) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    st = w.stats()
    assert calls and st.queued + st.dropped == 1000 and st.queued <= 300
    assert not w.flush(0.2) and w.last_flush_problem
    w.close(0.5)


def test_flush_reports_dropped_events(tmp_path: Path) -> None:
    """No spool, store down, memory bound reached: flush says events were dropped."""
    seen: list[Event] = []
    w = BufferedWriter(EventStore(DOWN), flush_interval=0.02, retry_attempts=1, batch_size=10,
                       max_memory_events=20, emit=seen.append)  # fmt: skip
    for e in good(100):
        w.submit(e)
    deadline = time.monotonic() + 10
    while w.stats().dropped < 80 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not w.flush(0.1)
    assert w.stats().dropped == 80
    assert "events_dropped" in {e.name for e in seen}
    w.close(0.2)


def test_no_dead_letter_directory_counts_refused_events_as_dropped(sqlite_url: str) -> None:
    from journal.store.migrate import upgrade

    upgrade(sqlite_url)
    store = EventStore(sqlite_url)
    seen: list[Event] = []
    lock = threading.Lock()

    def emit(e: Event) -> None:
        with lock:
            seen.append(e)

    w = BufferedWriter(store, flush_interval=0.02, emit=emit)
    w.submit(raw(1, error_type=["x"]))
    for e in good(10):
        w.submit(e)
    assert not w.flush(10) and "dropped" in (w.last_flush_problem or "")
    assert w.stats().dropped == 1 and store.count(sources=["good:1"]) == 10
    assert [e.context.get("dropped") for e in seen if e.name == "event_rejected"] == [True]
    w.close(2)
    store.close()
