"""The caller is never hurt: whatever it hands the breaker, the retry or record_error.

The worst exception a caller can raise is one whose ``__str__`` and ``__repr__`` raise. The
breaker must count it and give it back unchanged, a retry must give up with `RetryError`,
and `record_error` must record something and return an Event whatever it is given.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import journal
import journal.errors
from journal.errors import CircuitBreakerError, JournalError, RetryError, SchemaNotReady
from journal.events import Event
from journal.resilience.breaker import CircuitBreaker, circuit_breaker, get_circuit_breaker_manager
from journal.resilience.retry import retry_after_of, retry_with_backoff
from journal.resilience.tracker import UNRECORDABLE, build_error_event, describe
from journal.sanitizing.redaction import REDACTED
from journal.sanitizing.safetext import safe_repr, safe_str
from journal.store.event_store import EventStore


class Nasty(Exception):
    """An exception that cannot be printed."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ is broken")


class NastyObject:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class NastyRetryAfter(Exception):
    @property
    def retry_after(self) -> float:
        raise RuntimeError("no retry_after")


class ExplodingMapping(Mapping[str, Any]):
    """A context that is a Mapping but cannot be read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("unreadable")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("unreadable")

    def __len__(self) -> int:
        return 1


def raiser(exc: BaseException) -> Any:
    def f(*args: Any) -> Any:
        raise exc

    return f


# ---------------------------------------------------------------- safe text


def test_safe_str_never_raises_and_clips() -> None:
    assert safe_str(NastyObject()) == "<unprintable NastyObject>"
    assert safe_repr(NastyObject()) == "<unprintable NastyObject>"
    assert safe_str(Nasty()) == "<unprintable Nasty>"
    assert safe_str("x" * 50, 10) == "xxxxxxx..."
    assert safe_str(12) == "12"


def test_describe_an_exception_that_cannot_be_printed() -> None:
    assert describe(Nasty()) == "Nasty: <unprintable Nasty>"
    assert describe(ValueError()) == "ValueError"
    assert describe(NastyObject()) == "<unprintable NastyObject>"


# ---------------------------------------------------------------- the breaker


def test_breaker_counts_an_unprintable_failure_and_gives_it_back() -> None:
    events: list[Event] = []
    b = CircuitBreaker("nasty", failure_threshold=2, emit=events.append, clock=lambda: 0.0)
    errors = [Nasty(), Nasty()]
    for exc in errors:
        with pytest.raises(Nasty) as caught:
            b.call(raiser(exc))
        assert caught.value is exc  # the caller's own exception, not a RuntimeError
    stats = b.get_stats()
    assert (stats["state"], stats["failures"], stats["opens"]) == ("OPEN", 2, 1)
    assert stats["last_failure_message"] == "<unprintable Nasty>"
    assert [(e.kind, e.state_to) for e in events] == [("calls", None), ("breaker", "OPEN")]
    with pytest.raises(CircuitBreakerError):
        b.call(raiser(Nasty()))


def test_breaker_decorator_and_context_manager_survive_unprintable_failures() -> None:
    b = CircuitBreaker("nasty_cm", failure_threshold=3, emit=lambda e: None, clock=lambda: 0.0)
    guarded = b(raiser(Nasty()))
    with pytest.raises(Nasty):
        guarded()
    with pytest.raises(Nasty), b:
        raise Nasty()
    assert b.get_stats()["failures"] == 2


async def test_async_breaker_survives_unprintable_failures() -> None:
    b = CircuitBreaker("nasty_async", failure_threshold=1, emit=lambda e: None, clock=lambda: 0.0)

    async def f() -> None:
        raise Nasty()

    with pytest.raises(Nasty):
        await b.call_async(f)
    assert b.state == "OPEN"


def test_last_failure_message_is_redacted() -> None:
    b = CircuitBreaker("leaky", emit=lambda e: None, clock=lambda: 0.0)
    with pytest.raises(ConnectionError):
        b.call(raiser(ConnectionError("GET /orders?api_key=AKIAsupersecret1 failed")))
    message = b.get_stats()["last_failure_message"]
    assert "AKIAsupersecret1" not in message and REDACTED in message


# ---------------------------------------------------------------- the retry


def test_retry_gives_up_with_retry_error_on_unprintable_failures() -> None:
    events: list[Event] = []
    sleeps: list[float] = []
    last = Nasty()
    failures = iter([Nasty(), Nasty(), last])

    @retry_with_backoff(max_retries=2, jitter=False, sleep=sleeps.append, emit=events.append)
    def f() -> None:
        raise next(failures)

    with pytest.raises(RetryError) as caught:
        f()
    err = caught.value
    assert err.last_exception is last and err.__cause__ is last and err.attempts == 3
    assert str(err).endswith("gave up after 3 attempt(s); last error Nasty: <unprintable Nasty>")
    assert sleeps == [1.0, 2.0]
    assert [(e.attempt, e.error_type, e.message) for e in events] == [
        (1, "Nasty", "<unprintable Nasty>"),
        (2, "Nasty", "<unprintable Nasty>"),
        (3, "Nasty", "<unprintable Nasty>"),
    ]


def test_retry_after_that_raises_means_no_retry_after() -> None:
    assert retry_after_of(NastyRetryAfter()) is None
    sleeps: list[float] = []
    f = retry_with_backoff(max_retries=1, jitter=False, sleep=sleeps.append, emit=lambda e: None)(
        raiser(NastyRetryAfter())
    )
    with pytest.raises(RetryError):
        f()
    assert sleeps == [1.0]


def test_retry_error_and_retry_events_carry_no_secret() -> None:
    events: list[Event] = []
    exc = ConnectionError("auth failed: password=hunter2secret token=tok_abcdef123456")
    f = retry_with_backoff(max_retries=1, jitter=False, sleep=lambda s: None, emit=events.append)(
        raiser(exc)
    )
    with pytest.raises(RetryError) as caught:
        f()
    text = str(caught.value)
    assert "hunter2secret" not in text and "tok_abcdef123456" not in text and REDACTED in text
    assert len(events) == 2
    for e in events:
        assert "hunter2secret" not in (e.message or "") and REDACTED in (e.message or "")


def test_retry_outside_breaker_with_unprintable_failures_stops_when_it_opens() -> None:
    b = CircuitBreaker("nasty_stack", failure_threshold=2, emit=lambda e: None, clock=lambda: 0.0)
    sleeps: list[float] = []
    f = retry_with_backoff(max_retries=5, jitter=False, sleep=sleeps.append, emit=lambda e: None)(
        b(raiser(Nasty()))
    )
    with pytest.raises(Nasty):
        f()
    assert sleeps == [1.0] and b.state == "OPEN"
    with pytest.raises(CircuitBreakerError):
        f()


# ---------------------------------------------------------------- our own exceptions


def error_classes() -> list[type[BaseException]]:
    return [
        v
        for v in vars(journal.errors).values()
        if isinstance(v, type) and issubclass(v, BaseException) and v.__module__ == "journal.errors"
    ]


ODD_ARGS: list[tuple[Any, ...]] = [
    (),
    ("x",),
    (NastyObject(),),
    (None,),
    ("n", "OPEN", "soon"),
    (NastyObject(), NastyObject(), NastyObject()),
    (1, 2, 3, 4),
]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_journal_error_prints_whatever_its_args(cls: type[BaseException]) -> None:
    built = 0
    for args in ODD_ARGS:
        try:
            exc = cls(*args)
        except TypeError:  # a signature that takes fewer arguments: not a str() problem
            continue
        built += 1
        assert isinstance(str(exc), str) and isinstance(repr(exc), str)
    assert built >= 2  # at least no args and one arg


def test_circuit_breaker_error_str_and_fields() -> None:
    assert str(CircuitBreakerError()) == ""
    assert str(CircuitBreakerError("x")) == "x"
    assert CircuitBreakerError("x").name == "x" and CircuitBreakerError().name == "?"
    odd = CircuitBreakerError(NastyObject(), NastyObject(), NastyObject())
    assert (
        str(odd)
        == "circuit breaker '<unprintable NastyObject>' is <unprintable NastyObject>: call rejected (trial calls in progress)"
    )
    assert odd.retry_after == 0.0
    assert str(CircuitBreakerError("api", "OPEN", 12.34)) == (
        "circuit breaker 'api' is OPEN: call rejected (next trial call in 12.3s)"
    )


def test_retry_error_and_journal_error_with_odd_args() -> None:
    assert str(RetryError()) == ": gave up after 0 attempt(s); last error no exception"
    assert str(RetryError("x")) == "x: gave up after 0 attempt(s); last error no exception"
    odd = RetryError(NastyObject(), NastyObject(), Nasty())  # type: ignore[arg-type]
    assert str(odd) == (
        "<unprintable NastyObject>: gave up after <unprintable NastyObject> attempt(s); "
        "last error Nasty: <unprintable Nasty>"
    )
    assert str(JournalError(NastyObject())) == "<unprintable NastyObject>"
    assert str(JournalError(NastyObject(), 2)) == "(<unprintable NastyObject>, 2)"
    assert repr(JournalError(NastyObject())) == "JournalError(<unprintable NastyObject>)"
    assert str(SchemaNotReady(NastyObject())).startswith("<unprintable NastyObject>: database")  # type: ignore[arg-type]


# ---------------------------------------------------------------- decorator and the manager


def test_decorator_without_settings_attaches_to_an_existing_breaker() -> None:
    name = f"shared_{uuid.uuid4().hex[:8]}"
    manager = get_circuit_breaker_manager()
    try:
        first = manager.get_breaker(name, failure_threshold=3, recovery_timeout=5.0)
        plain = circuit_breaker(name=name)(lambda: "ok")
        assert plain.breaker is first  # type: ignore[attr-defined]
        same = circuit_breaker(name=name, failure_threshold=3)(lambda: "ok")
        assert same.breaker is first  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="failure_threshold=4 \\(has 3\\)"):
            circuit_breaker(name=name, failure_threshold=4)(lambda: "ok")
        fresh = circuit_breaker(name=name + "_new")(lambda: "ok")
        assert fresh.breaker.config["failure_threshold"] == 5  # type: ignore[attr-defined]
    finally:
        manager.remove(name)
        manager.remove(name + "_new")


# ---------------------------------------------------------------- record_error


@pytest.mark.parametrize(
    ("args", "kwargs", "expect"),
    [
        (("api_error", Nasty()), {}, ("api_error", "ERROR", "Nasty: <unprintable Nasty>")),
        ((NastyObject(), "x"), {}, ("<unprintable NastyObject>", "ERROR", "x")),
        ((42, "x"), {}, ("42", "ERROR", "x")),
        (("", "x"), {}, (UNRECORDABLE, "ERROR", "x")),
        (("api_error", "x"), {"severity": "fatal"}, ("api_error", "ERROR", "x")),
        (("api_error", "x"), {"severity": None}, ("api_error", "ERROR", "x")),
        (("api_error", "x"), {"severity": NastyObject()}, ("api_error", "ERROR", "x")),
        (("api_error", "x"), {"severity": "warning"}, ("api_error", "WARNING", "x")),
        (("api_error", NastyObject()), {}, ("api_error", "ERROR", "<unprintable NastyObject>")),
        (("api_error", 3.5), {}, ("api_error", "ERROR", "3.5")),
    ],
)
def test_build_error_event_makes_odd_input_recordable(
    args: tuple[Any, ...], kwargs: dict[str, Any], expect: tuple[str, str, str]
) -> None:
    e = build_error_event(*args, **kwargs)
    assert (e.error_type, e.severity, e.message) == expect
    assert isinstance(e.name, str) and e.name


def test_unknown_severity_is_kept_in_the_context() -> None:
    e = build_error_event("api_error", "x", {"symbol": "BTC"}, "FATAL")
    assert e.context == {"symbol": "BTC", "severity_given": "FATAL"}


def test_a_context_that_is_not_a_mapping_is_kept_as_text() -> None:
    assert build_error_event("e", "x", ["a", 1]).context == {"context": "['a', 1]"}
    assert build_error_event("e", "x", NastyObject()).context == {
        "context": "<unprintable NastyObject>"
    }


def test_an_unreadable_context_keeps_the_error_and_says_why() -> None:
    e = build_error_event("api_error", "x", ExplodingMapping())
    assert (e.kind, e.error_type, e.severity, e.message) == ("error", "api_error", "ERROR", "x")
    assert e.context == {"__truncated__": {"unreadable": "RuntimeError: unreadable"}}


def test_an_unbuildable_event_becomes_an_unrecordable_error(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import journal.resilience.tracker as tracker

    real = tracker.error_event

    def failing(error_type: Any, *args: Any, **kwargs: Any) -> Any:
        if error_type != UNRECORDABLE:
            raise RuntimeError("unreadable")
        return real(error_type, *args, **kwargs)

    monkeypatch.setattr(tracker, "error_event", failing)  # the constructor itself fails
    with caplog.at_level(logging.WARNING, logger="journal.tracker"):
        first = build_error_event("api_error", "x", {"a": 1})
        second = build_error_event("api_error", "y", {"a": 1}, "FATAL")
    for e in (first, second):
        assert (e.kind, e.error_type, e.severity) == ("error", UNRECORDABLE, "ERROR")
        assert e.message is not None and "'api_error'" in e.message
        assert "RuntimeError: unreadable" in e.message
    # logged once, not once per call (rate-limited)
    assert len([r for r in caplog.records if "could not record" in r.getMessage()]) <= 1


def test_record_error_never_raises_and_everything_reaches_the_store(configured: Any) -> None:
    odd_calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("api_error", Nasty()), {}),
        ((NastyObject(), "message"), {}),
        (("api_error", "x"), {"severity": "FATAL"}),
        (("api_error", "x"), {"context": "not a mapping"}),
        (("api_error", "x"), {"context": ExplodingMapping()}),
        (("api_error", "x"), {"name": NastyObject()}),
        (("api_error", "x"), {"context": {"k": NastyObject(), "password": "hunter2"}}),
    ]
    recorded = [journal.record_error(*a, **kw) for a, kw in odd_calls]
    assert all(isinstance(e, Event) for e in recorded)
    assert journal.flush(30)
    store = EventStore(configured.url)
    try:
        stored = {e.event_id: e for e in store.read(kinds=["error"])}
    finally:
        store.close()
    assert set(stored) == {e.event_id for e in recorded}
    assert stored[recorded[0].event_id].message == "Nasty: <unprintable Nasty>"
    unreadable = stored[recorded[4].event_id]
    assert unreadable.error_type == "api_error" and "unreadable" in unreadable.context_json
    assert "hunter2" not in stored[recorded[6].event_id].context_json
