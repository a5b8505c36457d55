"""Textual monitor for the error journal (``journal monitor``).

`run_monitor(url)` checks the journal and runs the app; `MonitorApp` is the app itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MonitorApp
    from .cli_monitor import run_monitor

__all__ = ["MonitorApp", "run_monitor"]


def __getattr__(name: str) -> Any:
    # Textual is loaded only when the monitor is used, not by `journal --help`.
    if name == "MonitorApp":
        from .app import MonitorApp

        return MonitorApp
    if name == "run_monitor":
        from .cli_monitor import run_monitor

        return run_monitor
    raise AttributeError(name)
