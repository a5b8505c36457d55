"""Run the ``journal`` command as a user does, and check its one-line errors (shared by tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_journal(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """``python -m journal ARGS`` in ``cwd``, piped, without the test process's
    ``JOURNAL_DB_URL`` (the default-journal fixture sets it) or ``COLUMNS``."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_DB_URL", "COLUMNS")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "journal", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    """Exit code 2, one ``journal: error:`` line on stderr holding ``fragment``, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("journal: error: ")
    assert fragment in lines[0], lines[0]
