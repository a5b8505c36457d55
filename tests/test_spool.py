"""The disk spool: format, fsync'd batches, corruption handling, orphan recovery."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from journal.events import Event, error_event
from journal.writing.spool import (
    QUARANTINE,
    Spool,
    SpoolError,
    default_spool_dir,
    encode_record,
    read_records,
)

T = 1_800_000_000_000_000


def evs(n: int, start: int = 0) -> list[Event]:
    return [
        error_event("spool_test", f"e{i}", ts=T + i, source="s:1", context={"i": i})
        for i in range(start, start + n)
    ]


def test_records_round_trip_in_order(tmp_path: Path) -> None:
    written = evs(5)
    sp = Spool(tmp_path)
    sp.append(written[:3])
    sp.append(written[3:])
    assert sp.path is not None and sp.path.suffix == ".spool"
    got = list(read_records(sp.path, lambda line: pytest.fail(f"bad line {line!r}")))
    assert [e.message for e in got] == ["e0", "e1", "e2", "e3", "e4"]
    assert got == written
    sp.close()


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    e = error_event(
        "t", "ünï ✓\nline2\ttab", severity="CRITICAL", context={"a": [1, {"b": None}]}, ts=T
    )
    sp = Spool(tmp_path)
    sp.append([e])
    assert sp.path is not None
    assert list(read_records(sp.path, lambda line: None)) == [e]


def test_damaged_records_are_quarantined_and_the_rest_delivered(tmp_path: Path) -> None:
    good = evs(4)
    path = tmp_path / "journal-dead-1-1.spool"
    flipped = bytearray(encode_record(good[2]))
    flipped[20] ^= 0x01  # a bit flip inside the payload
    path.write_bytes(
        encode_record(good[0]) + b"garbage without a tab\n" + encode_record(good[1]) + bytes(flipped)
        + encode_record(good[3]) + encode_record(evs(1, 9)[0])[:30]  # torn last record
    )  # fmt: skip
    delivered: list[Event] = []
    sp = Spool(tmp_path)
    files, n = sp.recover_orphans(delivered.extend)
    assert (files, n) == (1, 3)
    assert [e.message for e in delivered] == ["e0", "e1", "e3"]
    assert sp.quarantined == 3
    assert not path.exists()
    quarantine = (tmp_path / (path.name + QUARANTINE)).read_bytes().splitlines()
    assert len(quarantine) == 3 and quarantine[0] == b"garbage without a tab"


def test_a_live_process_spool_is_not_taken(tmp_path: Path) -> None:
    live = Spool(tmp_path)
    live.append(evs(2))
    other = Spool(tmp_path)
    assert other.recover_orphans(lambda b: pytest.fail("took a live spool")) == (0, 0)
    assert live.path is not None and live.path.exists()


def test_orphan_is_drained_once_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "journal-gone-99-1.spool"
    path.write_bytes(b"".join(encode_record(e) for e in evs(5)))
    first: list[Event] = []
    assert Spool(tmp_path).recover_orphans(first.extend) == (1, 5)
    assert Spool(tmp_path).recover_orphans(lambda b: pytest.fail("drained twice")) == (0, 0)
    assert list(tmp_path.glob("*.spool")) == []


def test_a_failed_delivery_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal-gone-7-1.spool"
    path.write_bytes(b"".join(encode_record(e) for e in evs(5)))

    def down(batch: list[Event]) -> None:
        raise ConnectionError("store down")

    with pytest.raises(ConnectionError):
        Spool(tmp_path).recover_orphans(down)
    assert path.exists()
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the lock was released
    os.close(fd)


def test_unwritable_spool_raises_spool_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(SpoolError, match="cannot create a spool file"):
        Spool(blocker / "spool").append(evs(1))


def test_default_spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_SPOOL_DIR", raising=False)
    assert default_spool_dir(f"sqlite:///{tmp_path}/j.db") == tmp_path / "j.db.spool.d"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_spool_dir("postgresql://x@h/db") == tmp_path / "error-journal" / "spool"
    monkeypatch.setenv("JOURNAL_SPOOL_DIR", str(tmp_path / "s"))
    assert default_spool_dir("postgresql://x@h/db") == tmp_path / "s"
