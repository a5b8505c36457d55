"""SQLite file and lock faults, for real: the file deleted or replaced under a running writer,
a lock held by another process, several processes migrating a fresh file at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from journal.events import Event, error_event
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from journal.writing.writer import BufferedWriter

ROOT = Path(__file__).resolve().parent.parent
T = 1_800_000_000_000_000


def evs(n: int, start: int = 0, source: str = "f:1") -> list[Event]:
    return [error_event("fault", f"e{i}", ts=T + i, source=source) for i in range(start, start + n)]


def writer_for(url: str, store: EventStore, spool: Path, **kw: Any) -> BufferedWriter:
    """A writer that migrates on first use, as `journal.configure` sets it up."""
    holder: list[BufferedWriter] = []
    kw.setdefault("flush_interval", 0.05)
    kw.setdefault("retry_initial", 0.05)
    w = BufferedWriter(store, spool_dir=spool, prepare=lambda: upgrade(url),
                       emit=lambda e: holder[0].submit(e), **kw)  # fmt: skip
    holder.append(w)
    return w


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_deleted_database_file_is_recreated_and_nothing_after_it_is_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    url = f"sqlite:///{path}"
    store = EventStore(url)
    w = writer_for(url, store, tmp_path / "spool", batch_size=200)
    for e in evs(2000):
        w.submit(e)
    assert w.flush(20)
    remove_db(path)  # the operator deletes the journal while the collector runs
    for e in evs(5000, start=2000):
        w.submit(e)
    assert w.flush(30), w.last_flush_problem
    assert w.close(10)
    got = list(store.read(sources=["f:1"]))
    # Everything acknowledged after the deletion is in the new file, once, in order.
    assert [e.message for e in got] == [f"e{i}" for i in range(2000, 7000)]
    assert store.count(kinds=["journal"], names=["store_file_replaced"]) >= 1
    assert w.stats().dropped == 0 and w.stats().outages == 0
    store.close()


def test_a_replaced_database_file_gets_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    url = f"sqlite:///{path}"
    other = tmp_path / "fresh.db"
    upgrade(f"sqlite:///{other}")
    store = EventStore(url)
    w = writer_for(url, store, tmp_path / "spool")
    for e in evs(1000):
        w.submit(e)
    assert w.flush(20)
    remove_db(path)
    shutil.copy(other, path)  # a restored (empty) backup takes its place
    for e in evs(3000, start=1000):
        w.submit(e)
    assert w.flush(30) and w.close(10)
    assert [e.message for e in store.read(sources=["f:1"])] == [f"e{i}" for i in range(1000, 4000)]
    store.close()


def test_a_file_deleted_during_commit_is_noticed_and_the_batch_re_sent(tmp_path: Path) -> None:
    """The file vanishes between the pre-append check and COMMIT: the batch went to a dead
    inode, so it must be sent again to the new file."""
    path = tmp_path / "j.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    store = EventStore(url)
    armed = {"at_commit": False, "fired": 0}

    @sa_event.listens_for(store.engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        def on_sql(sql: str) -> None:
            if armed["at_commit"] and sql.strip().upper() == "COMMIT":
                armed["at_commit"] = False
                armed["fired"] += 1
                remove_db(path)

        dbapi_conn.set_trace_callback(on_sql)

    w = writer_for(url, store, tmp_path / "spool", batch_size=250)
    for e in evs(1000):
        w.submit(e)
    assert w.flush(20)
    armed["at_commit"] = True
    batch = evs(250, start=1000)
    for e in batch:
        w.submit(e)
    assert w.flush(20) and armed["fired"] == 1
    for e in evs(500, start=1250):
        w.submit(e)
    assert w.flush(20) and w.close(10)
    assert [e.message for e in store.read(sources=["f:1"])] == [f"e{i}" for i in range(1000, 1750)]
    store.close()


@pytest.mark.slow
def test_a_lock_held_by_another_process_becomes_an_outage_then_everything_is_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        store = EventStore(url)
        w = writer_for(url, store, tmp_path / "spool")
        for e in evs(2000):
            w.submit(e)
        # Within the 60 s lock, the writer gives up waiting and spools (on main: ~125 s).
        deadline = time.monotonic() + 40
        while w.stats().spooled < 2001 and time.monotonic() < deadline:
            time.sleep(0.1)
        st = w.stats()
        # 2000 events and the store_unavailable journal event
        assert st.outage and st.spooled == 2001 and holder.poll() is None
        for e in evs(1000, start=2000):
            w.submit(e)
    finally:
        holder.kill()  # the lock goes with its process
        holder.wait(10)
    deadline = time.monotonic() + 60
    while (w.stats().outage or w.stats().queued) and time.monotonic() < deadline:
        w.flush(1)
    assert w.flush(20) and w.close(10)
    got = list(store.read(sources=["f:1"]))
    assert [e.message for e in got] == [f"e{i}" for i in range(3000)]
    names = [e.name for e in store.read(kinds=["journal"])]
    assert names.count("store_unavailable") == 1 and names.count("store_recovered") == 1
    store.close()


CHILD = """
import sys
from journal.store.migrate import upgrade
from journal.events import error_event
from journal.store.event_store import EventStore
from journal.writing.writer import BufferedWriter
url, spool, me, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import os, time
while not os.path.exists(go):
    time.sleep(0.001)
seen = []
w = BufferedWriter(EventStore(url), spool_dir=spool, flush_interval=0.05,
                   prepare=lambda: upgrade(url), emit=seen.append)
for i in range(n):
    w.submit(error_event("race", f"{me}:{i}", ts=1_800_000_000_000_000 + i, source=f"p{me}"))
ok = w.flush(60)
st = w.stats()
print(ok, st.outages, st.written, st.spooled, [e.name for e in seen], w.close(10), flush=True)
"""


def test_processes_starting_on_a_fresh_file_migrate_it_once_without_an_outage(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                url,
                str(tmp_path / f"spool{i}"),
                str(i),
                "1000",
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for i in range(8)
    ]
    time.sleep(1.0)  # let every interpreter start, then release them together
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for (out, err), p in zip(outs, procs, strict=True):
        assert p.returncode == 0, err
        assert out.split()[:4] == ["True", "0", "1000", "0"], (out, err)
        assert "store_unavailable" not in out
    store = EventStore(url)
    assert store.count(kinds=["error"]) == 8000
    for i in range(8):
        assert store.count(sources=[f"p{i}"]) == 1000
    store.close()
