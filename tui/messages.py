"""Messages the workers post back to the UI thread (frozen data only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from journal.events import Event
from journal.sanitizing.safetext import printable, safe_str

from .model import Board


@dataclass
class LiveLoaded(Message):
    """The first fold is done."""

    board: Board
    span: tuple[int, int] | None


@dataclass
class LiveUpdated(Message):
    """The live board as of the wall clock, after following ``new`` events."""

    board: Board
    new: int
    newest_ts: int | None


@dataclass
class HistoryFolded(Message):
    """The board as of the history cursor ``at``."""

    at: int
    board: Board


@dataclass
class PageLoaded(Message):
    """One page of the events list (newest first) for filter generation ``generation``."""

    generation: int
    page: int
    events: list[Event]


@dataclass
class ListCounted(Message):
    """How many events the filter matches (up to ``through`` id)."""

    generation: int
    total: int
    through: int


@dataclass
class IncidentsLoaded(Message):
    """The incidents report (`journal.history.incident_report.Report`) as of ``until``."""

    report: Any
    until: int


@dataclass
class WorkFailed(Message):
    """A worker's database work failed: ``where`` (replay, follow, events, ...) and ``error``,
    one line for people. The screen that started the work shows it in its status line; the
    app notifies."""

    where: str
    error: str

    @property
    def text(self) -> str:
        """``where: error``."""
        return f"{self.where}: {self.error}"


def failed(where: str, exc: BaseException) -> WorkFailed:
    """The `WorkFailed` for ``exc``: its text on one line (an unprintable error is named)."""
    return WorkFailed(where, printable(" ".join(safe_str(exc).split())))
