"""Run a command on a real pseudo-terminal and keep every byte it writes (shared by tests).

What a terminal would obey is only visible in the raw bytes: a pipe makes Rich and Textual
behave differently, and a headless Textual app writes nothing at all.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path


def run_on_terminal(
    args: Sequence[str],
    *,
    cwd: Path,
    keys: Sequence[tuple[float, bytes]] = (),
    size: tuple[int, int] = (120, 40),
    timeout: float = 60.0,
) -> bytes:
    """``python -m journal ARGS`` on a pty of ``size`` (columns, rows); ``keys`` are
    (seconds after the first output, bytes typed). Returns all output once the process ends."""
    master, slave = pty.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_DB_URL", "COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    pending = sorted(keys)
    started: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if started is not None and pending and time.monotonic() - started >= pending[0][0]:
                os.write(master, pending.pop(0)[1])
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the process closed the terminal
                    chunk = b""
                if not chunk:
                    break
                out += chunk
                started = started if started is not None else time.monotonic()
            elif proc.poll() is not None and not pending:
                break
        else:
            raise AssertionError(f"{args[0]} did not end in {timeout}s: {bytes(out[-400:])!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        os.close(master)
    return bytes(out)
