"""Messages the workers post back to the UI thread (frozen data only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from journal.events import Event

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
    """A worker's database work failed; ``text`` is one line for people."""

    text: str
