"""Where an export may be written: a symlink stays a link, a device or FIFO is written as a
stream and never replaced by a file, a full device is one line and exit 2, and `prune
--export-first` refuses anything but a regular file (it deletes only what is on disk)."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from journal.events import error_event
from journal.store.event_store import EventStore
from tests.journal_cli import assert_one_line_error, run_journal
from tests.test_tui_support import T0, S, seed


@pytest.fixture
def url(sqlite_url: str) -> str:
    seed(sqlite_url, [error_event("E", f"#{i}", name="n", ts=T0 + i * S) for i in range(5)])
    return sqlite_url


def test_a_symlink_stays_a_link_and_its_file_gets_the_export(url: str, tmp_path: Path) -> None:
    real = tmp_path / "data" / "out.jsonl"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    done = run_journal("export", "--db", url, "-o", str(link), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(real.read_text().splitlines()) == 5
    assert [p.name for p in real.parent.iterdir()] == ["out.jsonl"]  # no temporary left


def test_a_fifo_is_written_as_a_stream(url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    done = run_journal("export", "--db", url, "-o", str(fifo), "--format", "jsonl", cwd=tmp_path)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a file
    assert [json.loads(line)["message"] for line in got[0].splitlines()] == [
        f"#{i}" for i in range(5)
    ]


@pytest.fixture
def dev_full() -> Iterator[str]:
    """/dev/full, put back as the device if a regression replaced it (as root it could)."""
    if not stat.S_ISCHR(os.stat("/dev/full").st_mode if os.path.exists("/dev/full") else 0):
        pytest.skip("needs the /dev/full device")
    try:
        yield "/dev/full"
    finally:
        if not stat.S_ISCHR(os.lstat("/dev/full").st_mode) and os.geteuid() == 0:
            os.remove("/dev/full")
            os.mknod("/dev/full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            os.chmod("/dev/full", 0o666)


def test_a_full_device_is_one_line_and_stays_a_device(
    url: str, tmp_path: Path, dev_full: str
) -> None:
    done = run_journal("export", "--db", url, "-o", dev_full, cwd=tmp_path)
    assert_one_line_error(done, "cannot write /dev/full: No space left on device")
    assert stat.S_ISCHR(os.stat(dev_full).st_mode)
    report = run_journal("status", "--db", url, "--export", dev_full, cwd=tmp_path)
    assert_one_line_error(report, "cannot write /dev/full: No space left on device")
    assert stat.S_ISCHR(os.stat(dev_full).st_mode)


def test_import_of_a_pipe_is_one_line_and_imports_nothing(url: str, tmp_path: Path) -> None:
    """Import reads its file twice (validate, then add): a FIFO or /dev/stdin is refused."""
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    done = run_journal("import", "--db", url, str(fifo), cwd=tmp_path)
    assert_one_line_error(done, "is not a regular file; save it to a file first")
    with EventStore(url) as store:
        assert store.count() == 5


def test_prune_export_first_refuses_a_stream_and_deletes_nothing(url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    done = run_journal(
        "prune", "--db", url, "--before", "2026-11-28T10:00:03Z", "--export-first", str(fifo),
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(done, "not a regular file")
    with EventStore(url) as store:
        assert store.count() == 5
