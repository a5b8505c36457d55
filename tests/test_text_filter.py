"""The text filter: `EventStore.read`/`count` ``text=`` and ``journal export --text``.

A substring of the message or the name, every character literal, A-Z/a-z folded and nothing
else: the same answers on a SQLite file and on PostgreSQL (whose database locale folds
``É`` to ``é`` unless told otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import journal
from journal.events import Event, breaker_event, error_event, retry_event
from journal.sanitizing.redaction import redact_text
from journal.store.event_store import EventStore
from tests import secrets_corpus as corpus
from tests.journal_cli import assert_one_line_error
from tests.journal_cli import run_journal as run

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
        # an offset skips that many matching events, then the keyset carries on (the
        # monitor's jump into its list); in either order, across batches, with the filters
        for batch in (1, 3, 7, 10_000):
            for offset in (0, 1, 4, 19, 20, 25):
                for descending in (False, True):
                    order = want[::-1] if descending else want
                    got = ids(
                        store.read(
                            text="needle",
                            offset=offset,
                            limit=6,
                            batch_size=batch,
                            descending=descending,
                        )
                    )
                    assert got == order[offset : offset + 6], (batch, offset, descending)
            assert ids(store.read(offset=55, batch_size=batch)) == [56, 57, 58, 59, 60]
            below = ids(store.read(text="needle", offset=2, before_id=50, descending=True))
            assert below == [i for i in want[::-1] if i < 50][2:]
        with pytest.raises(ValueError, match="offset"):
            list(store.read(offset=-1))


# ---------------------------------------------------------------- journal export --text


def test_export_text_end_to_end(migrated_url: str, tmp_path: Path) -> None:
    with EventStore(migrated_url) as store:
        store.append(text_events())
    done = run(
        "export", "--db", migrated_url, "-o", "out.json", "--text", "ÉCHEC", "--kind", "error",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "exported 2 event(s) to out.json (json)\n"
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    header = doc["header"]
    assert header["filters"] == {
        "kind": ["error"],
        "name": None,
        "error_type": None,
        "severity": None,
        "source": None,
        "text": "ÉCHEC",
    }
    assert header["count"] == 2 and header["through_id"] == len(TEXTS)
    assert [(e["id"], e["message"]) for e in doc["events"]] == [
        (4, "ÉCHEC de connexion"),
        (6, "Échec partiel"),
    ]
    done = run("export", "--db", migrated_url, "--format", "jsonl", "--text", "0%", cwd=tmp_path)
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [2]


def test_export_text_narrows_an_incident(sqlite_url: str, tmp_path: Path) -> None:
    from journal.history.incident_report import incident_id
    from journal.store.migrate import upgrade

    past = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z: incidents are looked up before now
    upgrade(sqlite_url)
    with EventStore(sqlite_url) as store:
        store.append(
            [
                breaker_event("ep", "CLOSED", "OPEN", message="5 failures", ts=past),
                error_event("api_error", "reset by peer", name="ep", ts=past + S),
                error_event("api_error", "timed out", name="ep", ts=past + 2 * S),
                error_event("api_error", "timed out", name="other", ts=past + 2 * S),
                breaker_event("ep", "OPEN", "CLOSED", message="recovered", ts=past + 3 * S),
            ]
        )
    incident = incident_id("breaker", "ep", past)
    done = run(
        "export", "--db", sqlite_url, "--incident", incident, "--text", "TIMED", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [(e["id"], e["message"]) for e in doc["events"]] == [(3, "timed out")]
    assert doc["header"]["incident"] == incident and doc["header"]["filters"]["text"] == "TIMED"


def test_export_empty_text_is_one_line(migrated_url: str, tmp_path: Path) -> None:
    done = run("export", "--db", migrated_url, "-o", "out.json", "--text", "", cwd=tmp_path)
    assert_one_line_error(done, "--text is empty")
    assert done.stdout == ""
    assert not (tmp_path / "out.json").exists()


def test_export_help_explains_text(tmp_path: Path) -> None:
    out = " ".join(run("export", "--help", cwd=tmp_path).stdout.split())
    assert "--text TEXT only events whose message or name contains TEXT" in out
    assert '"ÉCHEC" finds "Échec" but not "échec"' in out


# ---------------------------------------------------------------- secrets


def test_text_export_prints_nothing_a_full_export_did_not(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    url = f"sqlite:///{db}"
    j = journal.configure(url, source="corpus:1", spool_dir=tmp_path / "spool", flush_interval=0.05)
    try:
        corpus.plant(journal.record_error)
        for e in corpus.other_events():
            j.publish(e)
        assert journal.flush(30)
    finally:
        journal.shutdown(30)
    with EventStore(url) as store:
        # The journal holds no secret, so no search can find (or confirm) one.
        assert [s.shape for s in corpus.SECRETS if store.count(text=s.token)] == []
        assert [s.shape for s in corpus.SECRETS if store.count(text=s.marker)] == []
    full = run("export", "--db", url, "-o", "all.json", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    everything = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    by_id = {e["id"]: e for e in everything["events"]}
    fixed = {"exported_at": "", "count": 0, "filters": {}}  # what differs between the headers
    password = next(s for s in corpus.SECRETS if s.shape == "message: password=")
    bearer = next(s for s in corpus.SECRETS if s.shape == "token shape: Stripe live key")
    for text, found in (
        ("REDACTED", True),
        ("password=", True),
        (f"password={password.token}", False),
        (bearer.token, False),
        (f"Authorization: Bearer {bearer.token}", False),
    ):
        done = run("export", "--db", url, "--text", text, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert corpus.leaks(done.stdout + done.stderr) == [], text
        doc = json.loads(done.stdout)
        assert bool(doc["events"]) is found, text
        for e in doc["events"]:
            assert e == by_id[e["id"]]  # the very records a full export holds
        assert doc["header"]["filters"]["text"] == redact_text(text)
        assert {**doc["header"], **fixed} == {**everything["header"], **fixed}
