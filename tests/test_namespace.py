"""One namespace: the project installs `journal` only, and a user's own `migrations`, `tui` or
`collector` package neither shadows ours nor is shadowed by it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from journal.store.event_store import EventStore
from journal.store.migrate import current_revision, head_revision

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _user_project(folder: Path) -> Path:
    """A project with its own Alembic `migrations/` (an env.py that writes a marker and exits),
    and packages named `tui` and `collector`."""
    marker = folder / "user_env_ran.marker"
    (folder / "migrations" / "versions").mkdir(parents=True)
    (folder / "migrations" / "__init__.py").write_text('"""The user\'s migrations."""\n')
    (folder / "migrations" / "env.py").write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            Path({str(marker)!r}).write_text("the user's env.py ran")
            raise SystemExit("the user's env.py must never run")
            """
        )
    )
    (folder / "migrations" / "script.py.mako").write_text("")
    for name in ("tui", "collector"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(f'WHOSE = "user {name}"\n')
    return marker


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    full["PYTHONPATH"] = str(cwd)  # the user's folder is on sys.path, as in their own project
    full.update(env or {})
    return subprocess.run(args, cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def test_python_m_journal_migrate_uses_our_migrations(tmp_path: Path) -> None:
    marker = _user_project(tmp_path)
    done = _run([sys.executable, "-m", "journal", "migrate"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert current_revision(f"sqlite:///{tmp_path}/journal.db") == head_revision()


def test_console_script_migrate_uses_our_migrations(tmp_path: Path) -> None:
    marker = _user_project(tmp_path)
    done = _run([str(BIN / "journal"), "migrate", "--db", "sqlite:///cli.db"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert current_revision(f"sqlite:///{tmp_path}/cli.db") == head_revision()


def test_configure_record_flush_in_a_user_project(tmp_path: Path) -> None:
    marker = _user_project(tmp_path)
    script = textwrap.dedent(
        """
        import journal
        journal.configure("sqlite:///lib.db", source="user:1")
        journal.record_error("api_error", ValueError("boom"))
        assert journal.flush(10), "flush must write the event"
        journal.shutdown()
        import collector, migrations, tui
        print(tui.WHOSE, "|", collector.WHOSE, "|", migrations.__file__)
        import journal.collector, journal.migrations, journal.tui
        print(journal.tui.__name__, journal.collector.__name__, journal.migrations.__name__)
        """
    )
    done = _run([sys.executable, "-c", script], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    user_line, ours_line = done.stdout.strip().splitlines()
    assert user_line.startswith("user tui | user collector | ")
    assert user_line.endswith(str(tmp_path / "migrations" / "__init__.py"))
    assert ours_line == "journal.tui journal.collector journal.migrations"
    with EventStore(f"sqlite:///{tmp_path}/lib.db") as store:
        assert [(e.kind, e.name) for e in store.read() if e.kind == "error"] == [
            ("error", "api_error")
        ]


def test_no_top_level_migrations_tui_or_collector_is_installed(tmp_path: Path) -> None:
    done = _run(
        [
            sys.executable,
            "-c",
            "import importlib.util as u; print([n for n in ('migrations', 'tui', 'collector')"
            " if u.find_spec(n)])",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_wheel_installs_journal_and_its_subpackages_only(tmp_path: Path) -> None:
    """A regular (non-editable) install holds `journal` with the mapped folders inside it."""
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("error_journal-*.whl")
    site = tmp_path / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    top = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert top - {"bin"} == {"journal"}  # bin/ holds the console script
    assert (site / "journal" / "migrations" / "versions" / "0001_events.py").exists()
    assert (site / "journal" / "migrations" / "script.py.mako").exists()
    project = tmp_path / "project"
    project.mkdir()
    marker = _user_project(project)
    done = _run(
        [
            sys.executable,
            "-c",
            "import journal.store.migrate as m, journal; print(journal.__file__); "
            "print(m.MIGRATIONS_DIR); from journal.cli.main import main; raise SystemExit(main(['migrate']))",
        ],
        project,
        env={"PYTHONPATH": f"{site}{os.pathsep}{project}"},
    )
    assert done.returncode == 0, done.stderr
    journal_file, migrations_dir = done.stdout.splitlines()[:2]
    assert journal_file.startswith(str(site)) and migrations_dir.startswith(str(site))
    assert not marker.exists()
    assert current_revision(f"sqlite:///{project}/journal.db") == head_revision()


def _loaded_after(code: str, tmp_path: Path) -> set[str]:
    probe = "; import sys; print(' '.join(m for m in ('sqlalchemy', 'tenacity', 'rich', 'alembic') if m in sys.modules))"
    done = _run([sys.executable, "-c", code + probe], tmp_path)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_import_journal_loads_no_sqlalchemy_tenacity_or_rich(tmp_path: Path) -> None:
    assert _loaded_after("import journal", tmp_path) == set()


def test_recording_errors_loads_no_sqlalchemy(tmp_path: Path) -> None:
    # tenacity is loaded by a retry's first failure, the store by the first configure()
    loaded = _loaded_after(
        "from journal import record_error, circuit_breaker, retry_with_backoff", tmp_path
    )
    assert loaded == set()


def test_every_public_name_resolves_lazily() -> None:
    import journal

    for name in journal.__all__:
        assert getattr(journal, name) is not None
    assert set(journal.__all__) <= set(dir(journal))
    assert callable(journal.replay) and journal.replay.__name__ == "replay"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = journal.nope  # type: ignore[attr-defined]


def test_importing_the_replay_module_first_keeps_journal_replay_the_function(
    tmp_path: Path,
) -> None:
    code = "import journal.history.replay, journal; print(type(journal.replay).__name__)"
    done = _run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "function"
