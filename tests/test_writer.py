"""The buffered writer under real faults on loopback: outages, spills, kill -9, lock contention."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from journal.events import Event, error_event
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from journal.writing.spool import encode_record
from journal.writing.writer import BufferedWriter
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
T = 1_800_000_000_000_000
DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/nothing"


def writer_for(store: EventStore, spool: Path | None, **kw: object) -> BufferedWriter:
    holder: list[BufferedWriter] = []
    kw.setdefault("flush_interval", 0.05)
    kw.setdefault("retry_initial", 0.05)
    w = BufferedWriter(store, spool_dir=spool, emit=lambda e: holder[0].submit(e), **kw)  # type: ignore[arg-type]
    holder.append(w)
    return w


def events(n: int, source: str = "w:1") -> list[Event]:
    return [error_event("writer_test", f"e{i}", ts=T + i, source=source) for i in range(n)]


def test_healthy_writes_everything_once(migrated_url: str, tmp_path: Path) -> None:
    store = EventStore(migrated_url)
    w = writer_for(store, tmp_path / "spool")
    for e in events(1234):
        w.submit(e)
    assert w.flush(20)
    assert w.close(5)
    assert store.count() == 1234 and w.stats().written == 1234 and w.stats().outages == 0
    store.close()


def proxied(pg_url: str) -> tuple[TcpProxy, str]:
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    return proxy, u.set(port=proxy.port).render_as_string(hide_password=False)


def run_outage(
    pg_url: str,
    tmp_path: Path,
    total: int,
    rate: float,
    cut_at: float,
    cut_for: float,
    **kw: object,
) -> tuple[BufferedWriter, EventStore, list[float]]:
    upgrade(pg_url)
    proxy, url = proxied(pg_url)
    store = EventStore(url)
    w = writer_for(store, tmp_path / "spool", **kw)
    submit_times: list[float] = []
    start = time.monotonic()
    cut_done = restored = False
    for i, e in enumerate(events(total, source="outage:1")):
        target = start + i / rate
        while (now := time.monotonic()) < target:
            time.sleep(min(0.002, target - now))
        if not cut_done and now - start >= cut_at:
            proxy.cut()
            cut_done = True
        if cut_done and not restored and now - start >= cut_at + cut_for:
            proxy.restore()
            restored = True
        t0 = time.perf_counter()
        w.submit(e)
        submit_times.append(time.perf_counter() - t0)
    if not restored:
        time.sleep(max(0.0, start + cut_at + cut_for - time.monotonic()))
        proxy.restore()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (w.stats().outage or w.stats().queued):
        w.flush(1)
    assert w.close(20)
    proxy.close()
    return w, EventStore(pg_url), submit_times


@pytest.mark.slow
def test_postgres_outage_loses_nothing_and_duplicates_nothing(pg_url: str, tmp_path: Path) -> None:
    w, store, submit_times = run_outage(
        pg_url, tmp_path, total=20_000, rate=1000, cut_at=5, cut_for=10
    )
    got = list(store.read(sources=["outage:1"]))
    assert len(got) == 20_000
    assert len({e.event_id for e in got}) == 20_000
    assert [e.ts for e in got] == sorted(e.ts for e in got)  # per-source order kept
    journal_events = {e.name: e for e in store.read(kinds=["journal"])}
    assert "store_unavailable" in journal_events and "store_recovered" in journal_events
    assert journal_events["store_recovered"].context["outage_seconds"] >= 8
    st = w.stats()
    assert st.outages == 1 and st.spooled > 0 and st.drained == st.spooled and st.dropped == 0
    assert list((tmp_path / "spool").glob("*.spool")) == []  # drained files are removed
    submit_times.sort()
    # Never blocked on the store (that would take the 5 s connect timeout); the worst case is
    # the scheduler on a shared machine, so the bound is loose: medians and p99 are measured in
    # benchmarks/bench_writer.py, not asserted here.
    assert submit_times[-1] < 1.0
    store.close()


@pytest.mark.slow
def test_spill_with_a_small_memory_bound(pg_url: str, tmp_path: Path) -> None:
    w, store, _ = run_outage(pg_url, tmp_path, total=5_000, rate=2000, cut_at=0.5, cut_for=3,
                             batch_size=100, max_memory_events=200)  # fmt: skip
    assert store.count(sources=["outage:1"]) == 5_000
    st = w.stats()
    assert st.spooled >= 1000 and st.dropped == 0 and st.drained == st.spooled
    assert list((tmp_path / "spool").glob("*.spool")) == []
    store.close()


@pytest.mark.slow
def test_kill_9_during_an_outage_then_a_new_process_drains_the_spool(
    migrated_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "writer_child.py"), DOWN, str(spool), "3000"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.stdout is not None
    line = child.stdout.readline()
    confirmed = int(line.split()[1])
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    assert confirmed == 3000
    assert len(list(spool.glob("*.spool"))) == 1
    store = EventStore(migrated_url)
    w = writer_for(store, spool)
    deadline = time.monotonic() + 30
    while w.stats().orphans_drained < confirmed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert w.close(10)
    got = list(store.read(sources=["child"]))
    assert len(got) >= confirmed and len({e.event_id for e in got}) == len(got)
    assert list(spool.glob("*.spool")) == []
    store.close()


def test_sqlite_lock_held_by_another_process_is_waited_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/locked.db"
    upgrade(url)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(3); c.execute('COMMIT')",
         str(tmp_path / "locked.db")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    store = EventStore(url)
    w = writer_for(store, tmp_path / "spool")
    for e in events(2000):
        w.submit(e)
    assert w.flush(30)
    holder.wait(10)
    assert w.close(5)
    assert store.count() == 2000
    assert w.stats().outages == 0 and w.stats().spooled == 0
    store.close()


def test_corrupt_spool_left_behind_is_delivered_and_quarantined(
    migrated_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    good = events(5, source="old:1")
    (spool / "journal-old-1-1.spool").write_bytes(
        encode_record(good[0]) + b"\x00\x01garbage\n" + encode_record(good[1]) + b"deadbeef\t{}\n"
        + encode_record(good[2]) + encode_record(good[3])[:25]
    )  # fmt: skip
    store = EventStore(migrated_url)
    with caplog.at_level(logging.WARNING, logger="journal"):
        w = writer_for(store, spool)
        deadline = time.monotonic() + 10
        while w.stats().orphans_drained < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.close(5)
    assert [e.message for e in store.read(sources=["old:1"])] == ["e0", "e1", "e2"]
    assert w.stats().quarantined == 3
    assert len((spool / "journal-old-1-1.spool.quarantine").read_bytes().splitlines()) == 3
    assert "3 damaged record(s)" in caplog.text
    assert store.count(names=["spool_drained"]) == 1
    store.close()


def test_unwritable_spool_drops_loudly_and_never_blocks_the_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    seen: list[Event] = []
    with caplog.at_level(logging.ERROR, logger="journal"):
        w = BufferedWriter(EventStore(DOWN), spool_dir=blocker / "spool", flush_interval=0.02, retry_attempts=1,
                           batch_size=100, max_memory_events=500, emit=seen.append)  # fmt: skip
        worst = 0.0
        for e in events(3000):
            t0 = time.perf_counter()
            w.submit(e)
            worst = max(worst, time.perf_counter() - t0)
            if e.message == "e1500":
                time.sleep(0.3)
        time.sleep(0.3)
        st = w.stats()
        w.close(0.5)
    assert worst < 1.0  # never waits for the store or the disk (see above)
    assert st.outage and st.dropped >= 2000 and st.spooled == 0
    names = [e.name for e in seen if e.kind == "journal"]
    assert {"store_unavailable", "spool_unwritable", "events_dropped"} <= set(names)
    assert "cannot create a spool file" in caplog.text


def test_close_spools_what_it_could_not_write(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    w = BufferedWriter(
        EventStore(DOWN), spool_dir=spool, flush_interval=5, retry_attempts=1, emit=lambda e: None
    )
    for e in events(50):
        w.submit(e)
    assert not w.close(1.0)
    files = list(spool.glob("*.spool"))
    assert len(files) == 1 and len(files[0].read_bytes().splitlines()) == 50


def test_submit_during_an_outage_stays_cheap(tmp_path: Path) -> None:
    w = BufferedWriter(EventStore(DOWN), spool_dir=tmp_path / "spool", flush_interval=0.02, retry_attempts=1,
                       emit=lambda e: None)  # fmt: skip
    batch = events(10_000)
    times = []
    stop = threading.Event()
    for e in batch:
        t0 = time.perf_counter()
        w.submit(e)
        times.append(time.perf_counter() - t0)
    stop.set()
    w.close(1)
    times.sort()
    assert times[-1] < 1.0  # (see above)


class Lockstep:
    """A real store whose appends the producer paces: one append per chunk the producer submits,
    so the producer is faster than the store by a known ratio."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.entered = threading.Semaphore(0)

    def append(self, events: list[Event]) -> int:
        self.entered.release()
        time.sleep(0.002)
        return self.store.append(events)

    def ping(self) -> None:
        self.store.ping()


def test_memory_stays_bounded_while_a_healthy_store_is_slower_than_the_producer(
    sqlite_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    store = EventStore(sqlite_url)
    slow = Lockstep(store)
    bound, batch, chunk, total = 2000, 200, 300, 30_000
    w = writer_for(slow, tmp_path / "spool", batch_size=batch, max_memory_events=bound,  # type: ignore[arg-type]
                   drain_batch=500)  # fmt: skip
    seen = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen[0] = max(seen[0], len(w._q))
            time.sleep(0)

    sampler = threading.Thread(target=sample)
    sampler.start()
    batch_events = events(total, source="slow:1")
    for i in range(0, total, chunk):
        for e in batch_events[i : i + chunk]:
            w.submit(e)
        slow.entered.acquire(timeout=0.5)  # 300 in per append of at most 200 from memory
    assert w.flush(60), w.last_flush_problem
    done.set()
    sampler.join()
    st = w.stats()
    assert w.close(10)
    # Between two checks of the bound the writer makes one append, during which the
    # producer adds one chunk: that is the only overshoot.
    assert seen[0] <= bound + chunk
    assert st.spooled > 0 and st.dropped == 0 and st.outages == 0
    got = list(store.read(sources=["slow:1"]))
    assert [e.event_id for e in got] == [e.event_id for e in batch_events]  # once, in order
    store.close()


class Stalled:
    """A real store whose first append hangs until released (the writer is stuck in it)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.inside = threading.Event()
        self.release = threading.Event()

    def append(self, events: list[Event]) -> int:
        self.inside.set()
        self.release.wait()
        return self.store.append(events)

    def ping(self) -> None:
        self.store.ping()


def test_a_producer_outpacing_the_disk_is_cut_at_twice_the_bound_and_counted(
    sqlite_url: str, tmp_path: Path
) -> None:
    """While a spill chunk is written, 5,000 events arrive (a disk slower than the producer):
    memory keeps at most twice the bound, the oldest beyond it are dropped and counted."""
    upgrade(sqlite_url)
    store = EventStore(sqlite_url)
    stalled = Stalled(store)
    w = writer_for(stalled, tmp_path / "spool", batch_size=100, max_memory_events=1000)  # type: ignore[arg-type]
    assert w.spool is not None
    real_append = w.spool.append
    evs = events(6101, source="slow:1")
    injected = []

    def slow_disk(batch: list[Event]) -> int:
        n = real_append(batch)
        if not injected:  # arrivals while the first chunk was being fsync'd
            injected.append(True)
            for e in evs[1101:]:
                w.submit(e)
        return n

    w.spool.append = slow_disk  # type: ignore[method-assign]
    for e in evs[:100]:
        w.submit(e)
    assert stalled.inside.wait(10)  # the writer is stuck in the store with e0..e99
    for e in evs[100:1101]:
        w.submit(e)  # 1,001 waiting: over the bound, spilled once the store answers
    stalled.release.set()
    assert not w.flush(30)
    assert "3000 event(s) dropped" in (w.last_flush_problem or "")
    assert w.flush(10) and w.close(10)
    got = [e.message for e in store.read(sources=["slow:1"])]
    # The batch in hand, the first spill chunk, then what was left under the ceiling, in order.
    assert got == [f"e{i}" for i in range(1100)] + [f"e{i}" for i in range(4100, 6101)]
    assert store.count(kinds=["journal"], names=["events_dropped"]) == 1
    store.close()
