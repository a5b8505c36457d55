"""`journal demo --headless --duration 25` from a fresh directory, as a new user runs it."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.journal_cli import run_journal


@pytest.mark.slow
def test_live_demo_shows_errors_retries_a_breaker_cycle_and_candles(tmp_path: Path) -> None:
    done = run_journal("demo", "--headless", "--duration", "25", cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Traceback" not in done.stderr
    # a breaker opened and closed again, in that order, within the run
    m = re.search(r"breaker transitions: (.*?) market rows", out)
    assert m, out
    story = m.group(1)
    opened = re.search(r"(\w+) CLOSED -> OPEN", story)
    assert opened, story
    name = opened.group(1)
    assert story.index(f"{name} CLOSED -> OPEN") < story.index(f"{name} HALF_OPEN -> CLOSED")
    rows = dict(re.findall(r"(candles|open_interest|funding_rates|trader_ratios) (\d+)", out))
    assert (
        int(rows["candles"]) >= 100 and int(rows["open_interest"]) > 0
    )  # 60 backfilled per symbol
    db = tmp_path / "journal.db"
    assert db.exists()
    status = run_journal("status", "--once", "--json", "--at", "now", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    board = json.loads(status.stdout)
    assert board["errors"]["total"] > 0
    assert any(b["name"] == name and b["opens"] >= 1 for b in board["breakers"])
    retries = run_journal("export", "--kind", "retry", "--format", "jsonl", "-o", "-", cwd=tmp_path)
    assert retries.returncode == 0 and len(retries.stdout.splitlines()) > 0, retries.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("Try: ")]
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}  # as a user's shell
    for command in [c.strip() for c in line.removeprefix("Try: ").split("|")]:
        ran = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, f"{command}: {ran.stderr}"
    assert (tmp_path / "events.json").exists()
