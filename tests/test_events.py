"""The event record: constructors, validation, context safety, JSON round trip."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from journal.events import (
    MAX_CONTEXT_BYTES,
    TRUNCATED_MARKER,
    Event,
    EventError,
    breaker_event,
    calls_event,
    error_event,
    from_us,
    iso,
    new_event_id,
    retry_event,
    to_us,
)
from journal.sanitizing.redaction import REDACTED, redact_text, register_secret


def test_error_event_carries_fields_and_defaults() -> None:
    e = error_event("api_error", "boom", severity="critical", context={"symbol": "SOL/USDT"}, ts=5)
    assert (e.kind, e.name, e.error_type, e.severity, e.message, e.ts) == (
        "error",
        "api_error",
        "api_error",
        "CRITICAL",
        "boom",
        5,
    )
    assert e.context == {"symbol": "SOL/USDT"}
    assert e.id is None and len(e.event_id) == 36


def test_unknown_severity_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="ERROR, WARNING, CRITICAL"):
        error_event("x", "m", severity="FATAL")


def test_breaker_states_are_validated() -> None:
    assert breaker_event("b", "CLOSED", "OPEN").state_to == "OPEN"
    with pytest.raises(EventError, match="CLOSED, OPEN or HALF_OPEN"):
        breaker_event("b", "CLOSED", "BROKEN")


def test_retry_rejects_nonsense() -> None:
    with pytest.raises(EventError):
        retry_event("f", 0, 1.0)
    with pytest.raises(EventError):
        retry_event("f", 1, -1.0)


def test_event_ids_are_unique() -> None:
    ids = {new_event_id() for _ in range(10_000)}
    assert len(ids) == 10_000


def test_event_ids_are_uuid_shaped() -> None:
    for _ in range(3):
        eid = new_event_id()
        assert len(eid) == 36 and str(uuid.UUID(eid)) == eid


def test_time_conversions_are_exact_to_the_microsecond() -> None:
    t = datetime(2026, 11, 28, 10, 30, 45, 123456, tzinfo=timezone.utc)
    us = to_us(t)
    assert from_us(us) == t
    assert iso(us) == "2026-11-28T10:30:45.123456Z"
    assert to_us(t.replace(tzinfo=None)) == us


def test_context_values_json_cannot_hold_become_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<thing>"

    e = error_event(
        "t", "m", context={"obj": Thing(), "nested": {"n": float("nan")}, "tup": (1, 2)}
    )
    assert e.context == {"obj": "<thing>", "nested": {"n": "nan"}, "tup": [1, 2]}


def test_large_context_is_truncated_with_a_marker() -> None:
    ctx = {f"k{i}": "x" * 100 for i in range(200)}
    e = error_event("t", "m", context=ctx)
    assert len(e.context_json.encode()) <= MAX_CONTEXT_BYTES
    marker = e.context[TRUNCATED_MARKER]
    assert marker["dropped_keys"] > 0 and marker["original_bytes"] > MAX_CONTEXT_BYTES


def test_secret_keys_are_redacted_in_context() -> None:
    e = error_event(
        "t",
        "m",
        context={"api_key": "AKIA123456", "nested": {"Password": "hunter22"}, "symbol": "BTC"},
    )
    assert e.context == {"api_key": REDACTED, "nested": {"Password": REDACTED}, "symbol": "BTC"}


def test_secrets_in_messages_are_redacted() -> None:
    msg = (
        "GET /fapi/v1/order?symbol=BTCUSDT&signature=abcdef0123456789&timestamp=1 apiKey=XYZ987654"
    )
    out = redact_text(msg)
    assert "abcdef0123456789" not in out and "XYZ987654" not in out and "symbol=BTCUSDT" in out
    assert "Bearer " + REDACTED in redact_text(
        "Authorization header Bearer eyJhbGciOiJIUzI1NiJ9.x.y"
    )
    assert "s3cr3t" not in redact_text("postgresql://user:s3cr3t@db:5432/x")


def test_registered_literal_secret_is_scrubbed_everywhere() -> None:
    register_secret("my-very-own-secret-value")
    e = error_event(
        "t",
        "failed with my-very-own-secret-value in it",
        context={"note": "my-very-own-secret-value"},
    )
    assert "my-very-own-secret-value" not in e.message  # type: ignore[operator]
    assert "my-very-own-secret-value" not in e.context_json


def test_json_round_trip_keeps_every_field() -> None:
    e = retry_event(
        "fetch",
        3,
        4.0,
        error_type="TimeoutError",
        message="ünïcode ✓",
        context={"a": [1, {"b": None}]},
    )
    e = e.with_id(42)
    back = Event.from_json(e.to_json())
    assert back == e
    assert json.loads(e.to_json())["ts"].endswith("Z")


def test_from_dict_rejects_garbage() -> None:
    with pytest.raises(EventError):
        Event.from_json("[1,2]")
    with pytest.raises(EventError):
        Event.from_dict({"kind": "nope", "event_id": "x", "ts": 1, "source": "s", "name": "n"})


def test_calls_event_tallies() -> None:
    e = calls_event("b", successes=3, failures=1, rejected=2, state="OPEN")
    assert e.context == {"successes": 3, "failures": 1, "rejected": 2, "state": "OPEN"}
