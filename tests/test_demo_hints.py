"""The commands `journal demo` suggests at the end work exactly as printed."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path


def test_every_suggested_command_runs_as_printed(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "journal",
            "demo",
            "--simulate",
            "--minutes",
            "5",
            "--db",
            "sqlite:///demo.db",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("Try: ")]
    commands = [c.strip() for c in line.removeprefix("Try: ").split("|")]
    assert len(commands) == 3
    for command in commands:
        ran = subprocess.run(
            shlex.split(command), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert ran.returncode == 0, f"{command}: {ran.stderr}"
    assert (tmp_path / "events.json").exists()
