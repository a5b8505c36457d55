"""The text filter: `EventStore.read`/`count` ``text=``.

A substring of the message or the name, every character literal, A-Z/a-z folded and nothing
else: the same answers on a SQLite file and on PostgreSQL (whose database locale folds
``É`` to ``é`` unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from journal.events import Event, breaker_event, error_event, retry_event
from journal.store.event_store import EventStore

T0 = 1_800_000_000_000_000  # 2027-01-15T08:00:00Z
S = 1_000_000

# (message, name) of the events 1..N, in id order; None: a NULL message.
TEXTS: list[tuple[str | None, str]] = [
    ("ConnectionError: reset by peer", "binance_ohlcv"),  # 1
    ("100% done_with C:\\path", "ep_a"),  # 2: wildcards and a backslash, literally
    ("1000 done with C:path", "epXa"),  # 3: what 2's text would match as a LIKE pattern
    ("ÉCHEC de connexion", "fr_one"),  # 4
    ("échec total", "fr_two"),  # 5
    ("Échec partiel", "fr_three"),  # 6
    ("İstanbul down", "tr_one"),  # 7: U+0130, which a Unicode lower() makes "i" or "i̇"
    ("istanbul up", "tr_two"),  # 8
    (None, "Timeout_Fetch"),  # 9: a retry without a message
    ("Half-open trial failed", "binance_oi"),  # 10: a breaker event
]


def text_events() -> list[Event]:
    """The events of `TEXTS`, one second apart: errors, a retry (9) and a breaker event (10)."""
    out: list[Event] = []
    for i, (message, name) in enumerate(TEXTS):
        ts = T0 + i * S
        if i == 8:
            out.append(retry_event(name, 1, 0.5, message=message, ts=ts))
        elif i == 9:
            out.append(breaker_event(name, "HALF_OPEN", "OPEN", message=message, ts=ts))
        else:
            out.append(error_event("api_error", message, name=name, ts=ts))
    return out


@pytest.fixture
def store(migrated_url: str) -> Iterator[EventStore]:
    with EventStore(migrated_url) as s:
        assert s.append(text_events()) == len(TEXTS)
        yield s


def ids(events: Any) -> list[int]:
    return [int(e.id) for e in events]


# ---------------------------------------------------------------- the store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CONNECTIONerror", [1]),
        ("100%", [2]),  # as a pattern, % would let "1000" (3) match
        ("done_with", [2]),  # as a pattern, _ would let "done with" (3) match
        ("C:\\path", [2]),  # as an escape, \ would let "C:path" (3) match
        ("%", [2]),
        ("_", [1, 2, 4, 5, 6, 7, 8, 9, 10]),  # every name but 3's has one
        ("\\", [2]),
        ("ÉCHEC", [4, 6]),  # É is only É; C, H, E fold
        ("échec", [5]),
        ("Échec", [4, 6]),
        ("İ", [7]),
        ("ISTANBUL", [8]),  # İstanbul does not hold "istanbul": only ASCII letters fold
        ("timeout_fetch", [9]),  # a NULL message matches on its name
        ("fetch", [9]),
        ("binance", [1, 10]),  # names
        ("HALF-OPEN", [10]),
        ("fr_", [4, 5, 6]),
        ("nothing like it", []),
        ("a\x00b", []),  # no stored text holds a NUL (and PostgreSQL would refuse to bind it)
        ("\ud800", []),  # nor a lone surrogate
    ],
)
def test_text_matches_message_or_name_literally_and_folds_ascii_only(
    store: EventStore, text: str, expected: list[int]
) -> None:
    assert ids(store.read(text=text)) == expected
    assert store.count(text=text) == len(expected)
    assert ids(store.read(text=text, descending=True)) == expected[::-1]


def test_empty_or_no_text_matches_everything(store: EventStore) -> None:
    everything = list(range(1, len(TEXTS) + 1))
    assert ids(store.read(text="")) == ids(store.read(text=None)) == everything
    assert store.count(text="") == store.count() == len(TEXTS)


def test_text_combines_with_the_other_filters(store: EventStore) -> None:
    assert ids(store.read(text="e", kinds=["retry", "breaker"])) == [9, 10]
    assert store.count(text="e", kinds=["error"]) == 7  # 1-7 (7 by its name); not 8
    assert ids(store.read(text="échec", names=["fr_one", "fr_three"])) == []
    assert ids(store.read(text="chec", names=["fr_one", "fr_three"])) == [4, 6]
    assert ids(store.read(text="chec", since=T0 + 4 * S, until=T0 + 6 * S)) == [5, 6]
    assert store.count(text="chec", severities=["ERROR"], error_types=["api_error"]) == 3
    assert store.count(text="chec", sources=["elsewhere:1"]) == 0
    assert ids(store.read(text="chec", after_id=4)) == [5, 6]
    assert ids(store.read(text="chec", before_id=6)) == [4, 5]
    assert store.count(text="chec", after_id=4, before_id=6) == 1
    assert ids(store.read(text="chec", descending=True, before_id=6)) == [5, 4]
    assert ids(store.read(text="chec", descending=True, limit=2)) == [6, 5]
    assert ids(store.read(text="chec", limit=1)) == [4]


def test_text_reads_page_across_batch_boundaries(migrated_url: str) -> None:
    # 60 events; every third says "needle" (in the message or, for the retries, the name).
    events = []
    for i in range(60):
        ts = T0 + i * S
        if i % 6 == 3:
            events.append(retry_event("NEEDLE_ep", 1, 0.5, ts=ts))
        elif i % 3 == 0:
            events.append(error_event("api_error", f"a Needle {i}", name="ep", ts=ts))
        else:
            events.append(error_event("api_error", f"hay {i}", name="ep", ts=ts))
    want = [i + 1 for i in range(60) if i % 3 == 0]
    with EventStore(migrated_url) as store:
        assert store.append(events) == 60
        for batch in (1, 2, 3, 7, 20, 10_000):
            assert ids(store.read(text="needle", batch_size=batch)) == want, batch
            assert ids(store.read(text="needle", batch_size=batch, descending=True)) == want[::-1]
            assert ids(store.read(text="needle", batch_size=batch, limit=5)) == want[:5]
            got = ids(store.read(text="needle", batch_size=batch, descending=True, limit=9))
            assert got == want[::-1][:9]
            assert ids(store.read(text="needle", batch_size=batch, after_id=20, before_id=50)) == [
                i for i in want if 20 < i < 50
            ]
        assert store.count(text="needle") == 20
