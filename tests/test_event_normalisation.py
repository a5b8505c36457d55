"""Events are valid by construction: whatever a caller passes, every store accepts the event."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, create_engine, pool, text

import journal
from journal.events import (
    MAX_CONTEXT_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
    SEVERITY_MARKER,
    Event,
    EventError,
    alert_event,
    breaker_event,
    error_event,
    journal_event,
    retry_event,
    validate,
)
from journal.sanitizing.fields import DEPTH_MARKER, TRUNCATED_MARKER, has_bad_chars, safe_str
from journal.sanitizing.redaction import REDACTED, register_secret
from journal.writing.spool import decode_payload, encode_record


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BadStrError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str either")


class Color(Enum):
    RED = "red"


def deep(n: int) -> dict[str, Any]:
    ctx: dict[str, Any] = {"leaf": 1}
    for _ in range(n):
        ctx = {"k": ctx}
    return ctx


def cyclic() -> dict[str, Any]:
    a: dict[str, Any] = {"name": "a", "items": []}
    a["self"] = a
    a["items"].append(a)
    a["items"].append([a, a])
    return a


def storable(e: Event) -> None:
    """What every store and the spool need, checked field by field."""
    validate(e)
    for value in e[1:]:
        if isinstance(value, str):
            assert not has_bad_chars(value)
            value.encode("utf-8")  # strict: no lone surrogate
    assert len(e.source) <= MAX_NAME_CHARS and len(e.name) <= MAX_NAME_CHARS
    assert e.error_type is None or len(e.error_type) <= MAX_NAME_CHARS
    assert e.message is None or len(e.message) <= MAX_MESSAGE_CHARS
    assert len(e.context_json.encode("utf-8")) <= MAX_CONTEXT_BYTES
    assert "\\u0000" not in e.context_json
    json.loads(e.context_json)
    assert decode_payload(encode_record(e)[9:-1]) == e
    assert Event.from_json(e.to_json()) == e


# ---------------------------------------------------------------- text fields


def test_any_object_becomes_text_and_never_raises() -> None:
    assert safe_str(Unprintable()) == "<unprintable Unprintable>"
    e = error_event(Unprintable(), Unprintable(), name=Unprintable(), context={"o": Unprintable()})
    assert (e.error_type, e.name, e.message) == ("<unprintable Unprintable>",) * 3
    assert e.context == {"o": "<unprintable Unprintable>"}
    storable(e)


def test_a_class_or_a_list_as_error_type() -> None:
    assert error_event(ConnectionError, "m").error_type == "ConnectionError"
    e = error_event(["a", "b"], "m")
    assert e.error_type == "['a', 'b']" and e.name == "['a', 'b']"
    storable(e)


def test_exception_as_message_gives_its_type_and_text_even_when_str_raises() -> None:
    assert error_event("t", ValueError("bad")).message == "ValueError: bad"
    e = error_event("t", BadStrError())
    assert e.message is not None and e.message.startswith("BadStrError")
    storable(e)


def test_long_names_are_clipped_with_a_visible_marker() -> None:
    long = "n" * 300
    e = error_event(long, "m", name=long, source=long)
    for value in (e.error_type, e.name, e.source):
        assert value is not None and len(value) <= MAX_NAME_CHARS
        assert value.startswith("nnn") and value.endswith("]") and "…[+" in value
    storable(e)
    b = breaker_event("b" * 300, "CLOSED", "OPEN")
    assert len(b.name) == MAX_NAME_CHARS
    storable(b)


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "\udfff", "x\x00\udc00y"])
def test_nul_and_lone_surrogates_are_replaced_in_every_text_field(bad: str) -> None:
    e = error_event(bad, bad, name=bad, source=bad, context={bad: bad, "nested": [bad, {"k": bad}]})
    assert e.message is not None and "\ufffd" in e.message
    assert "\ufffd" in e.context_json
    storable(e)
    for other in (
        retry_event(bad, 1, 0.0, error_type=bad, message=bad, context={bad: bad}),
        breaker_event(bad, "CLOSED", "OPEN", message=bad, context={"k": bad}),
        alert_event(bad, bad, bad, context={bad: 1}),
        journal_event(bad, bad, context={"x": bad}),
    ):
        storable(other)


def test_a_10_mb_message_is_clipped_before_redaction_and_a_cut_secret_does_not_leak() -> None:
    register_secret("literal-cut-at-the-edge-0123456789")
    for edge in range(MAX_MESSAGE_CHARS - 40, MAX_MESSAGE_CHARS + 600, 97):
        msg = (
            "x" * edge
            + " literal-cut-at-the-edge-0123456789 api_key=CUTSECRET99 "
            + "y" * 10_000_000
        )
        e = error_event("t", msg)
        assert e.message is not None and len(e.message) <= MAX_MESSAGE_CHARS
        assert "…[+" in e.message
        assert "literal-cut" not in e.message and "CUTSECRET" not in e.message
        assert "CUTSECRET"[:4] not in e.message
    storable(e)


def test_a_secret_cut_by_the_clip_stays_hidden_when_redaction_shortens_the_kept_text() -> None:
    # A long secret early on shrinks to the marker, pulling text from past the clip point into
    # what is kept: the part past the clip point must never be shown.
    register_secret("literal-cut-at-the-edge-0123456789")
    for at in range(MAX_MESSAGE_CHARS + 300, MAX_MESSAGE_CHARS + 700, 7):
        head = "api_key=" + "v" * 1500 + " "
        msg = head + "x" * (at - len(head)) + "literal-cut-at-the-edge-0123456789" + "y" * 5000
        e = error_event("t", msg)
        assert e.message is not None and "literal" not in e.message, at
        assert "v" * 20 not in e.message


# ---------------------------------------------------------------- contexts


def test_a_5000_deep_context_is_cut_at_the_depth_bound() -> None:
    e = error_event("t", "m", context=deep(5000))
    assert DEPTH_MARKER in e.context_json
    depth, node = 0, e.context
    while isinstance(node, dict) and "k" in node:
        node, depth = node["k"], depth + 1
    assert node == DEPTH_MARKER and depth == 9  # the top level plus 8 nested levels
    storable(e)


def test_a_cyclic_context_is_bounded() -> None:
    e = error_event("t", "m", context=cyclic())
    assert DEPTH_MARKER in e.context_json
    storable(e)


def test_wide_contexts_are_bounded_in_items_and_bytes() -> None:
    e = error_event("t", "m", context={"rows": list(range(100_000)), "big": "z" * 10_000_000})
    assert TRUNCATED_MARKER in e.context_json
    storable(e)


def test_values_json_cannot_hold_become_text() -> None:
    ctx = {
        "nan": math.nan,
        "inf": -math.inf,
        "big": 10**5000,
        "int64": 2**63,
        "bytes": b"\x00\xff" * 10,
        "set": {3},
        "when": datetime(2026, 1, 2, tzinfo=timezone.utc),
        "enum": Color.RED,
        "exc": ValueError("nope"),
        (1, 2): "tuple key",
        Unprintable(): "object key",
        None: "none key",
    }
    e = error_event("t", "m", context=ctx)
    c = e.context
    assert c["nan"] == "nan" and c["inf"] == "-inf" and c["int64"] == str(2**63)
    assert c["big"].startswith("<int of") and c["set"] == [3] and c["enum"] == "red"
    assert c["when"] == "2026-01-02T00:00:00+00:00" and c["exc"] == "ValueError: nope"
    assert c["(1, 2)"] == "tuple key" and c["<unprintable Unprintable>"] == "object key"
    assert c["None"] == "none key"
    storable(e)


def test_a_mapping_that_raises_while_read_and_a_non_mapping_context() -> None:
    class Broken(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("cannot iterate")

        def __len__(self) -> int:
            return 3

    e = error_event("t", "m", context=Broken())
    assert TRUNCATED_MARKER in e.context
    storable(e)
    assert error_event("t", "m", context=["a", 1]).context == {"value": ["a", 1]}  # type: ignore[arg-type]


def test_header_containers_lose_their_secrets_in_context() -> None:
    s = "hdr-secret-value-123"
    ctx = {
        "pairs": [("Authorization", f"Bearer {s}"), ("Accept", "json")],
        "lists": [["X-Api-Key", s]],
        "records": [{"name": "Cookie", "value": s}, {"key": "X-Api-Key", "value": s}],
        "plain": {"name": "symbol", "value": "BTC"},
        "label_only": {"key": "symbol"},
        "authenticated": True,
        "password": None,
    }
    c = error_event("t", "m", context=ctx).context
    assert s not in json.dumps(c)
    assert c["pairs"] == [["Authorization", REDACTED], ["Accept", "json"]]
    assert c["records"][0] == {"name": "Cookie", "value": REDACTED}
    assert c["records"][1] == {"key": "X-Api-Key", "value": REDACTED}
    assert c["plain"] == {"name": "symbol", "value": "BTC"}
    assert c["label_only"] == {"key": REDACTED}  # a lone "key" is a secret key
    assert c["authenticated"] is True and c["password"] is None


# ---------------------------------------------------------------- severity and strictness


def test_unknown_severity_raises_when_strict_and_is_kept_as_a_marker_otherwise() -> None:
    with pytest.raises(ValueError, match="ERROR, WARNING, CRITICAL"):
        error_event("t", "m", severity="FATAL")
    e = error_event("t", "m", severity="FATAL", context={"a": 1}, strict=False)
    assert e.severity == "ERROR" and e.context == {"a": 1, SEVERITY_MARKER: "FATAL"}
    e = error_event("t", "m", severity=[Unprintable()], strict=False)
    assert e.severity == "ERROR" and SEVERITY_MARKER in e.context
    assert error_event("t", "m", severity="warning").severity == "WARNING"
    storable(e)


def test_non_strict_never_raises_on_empty_type_or_a_bad_timestamp() -> None:
    with pytest.raises(EventError):
        error_event("", "m")
    e = error_event("", "m", ts="yesterday", strict=False)
    assert e.error_type == "unknown" and e.ts > 0
    storable(e)


# ---------------------------------------------------------------- validation mirrors construction


@pytest.mark.parametrize(
    "change",
    [
        {"name": "n" * 256},
        {"name": ""},
        {"message": "a\x00b"},
        {"error_type": "a\ud800"},
        {"severity": "FATAL"},
        {"context": '{"a":NaN}'},
        {"context": '{"a":"\\u0000"}'},
        {"context": '{"a":"\\ud800"}'},
        {"context": "[1]"},
        {"context": json.dumps({"k": "v" * MAX_CONTEXT_BYTES})},
        {"attempt": 0},
        {"ts": "soon"},
    ],
)
def test_from_dict_refuses_what_no_constructor_produces(change: dict[str, Any]) -> None:
    data = error_event("t", "m", context={"a": 1}).to_dict()
    if "attempt" in change:
        data = retry_event("r", 1, 0.5).to_dict()
    data.update(change)
    with pytest.raises(EventError):
        Event.from_dict(data)


_text = st.text(st.characters(blacklist_categories=()), max_size=300)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | _text
_contexts = st.dictionaries(
    _text,
    st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
        max_leaves=20,
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(error_type=_text, message=_text, name=_text, source=_text, context=_contexts)
def test_any_input_builds_an_event_validation_accepts_and_round_trips(
    error_type: str, message: str, name: str, source: str, context: dict[str, Any]
) -> None:
    e = error_event(
        error_type, message, name=name or None, source=source, context=context, strict=False
    )
    storable(e)
    r = retry_event(name or "r", 2, 0.25, error_type=error_type, message=message, context=context)
    storable(r)


# ---------------------------------------------------------------- acceptance on both stores


def _bad_inputs() -> list[dict[str, Any]]:
    return [
        {"error_type": Unprintable(), "message": "object error type"},
        {"error_type": ["list", "as", "type"], "message": "list error type"},
        {"error_type": ValueError, "message": "class error type"},
        {"error_type": "t" * 300, "message": "m", "name": "n" * 300, "source": "s" * 300},
        {"error_type": "nul\x00type", "message": "nul\x00message", "context": {"k\x00": "v\x00"}},
        {"error_type": "sur\ud800", "message": "lone \udfff", "context": {"\ud800": "\udc00"}},
        {"error_type": "deep", "message": "m", "context": deep(5000)},
        {"error_type": "cyclic", "message": "m", "context": cyclic()},
        {"error_type": "bad_str", "message": BadStrError()},
        {"error_type": "huge", "message": "h" * 10_000_000},
        {"error_type": "sev", "message": "m", "severity": "FATAL"},
    ]


def test_bad_inputs_amid_thousands_of_good_events_are_all_stored_once(configured: Any) -> None:
    j = configured
    bad = _bad_inputs()
    every = 2000 // len(bad)
    ids: list[str] = []
    bad_ids: list[str] = []
    for i in range(2000):
        good = journal.record_error("good", f"ok {i}", {"i": i, "symbol": "BTC/USDT"})
        ids.append(good.event_id)
        if i % every == 0 and i // every < len(bad):
            e = error_event(**bad[i // every], strict=False)
            j.publish(e)
            ids.append(e.event_id)
            bad_ids.append(e.event_id)
    assert len(bad_ids) == len(bad)
    assert journal.flush(60)
    engine = create_engine(j.url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(text("SELECT event_id, COUNT(*) FROM events GROUP BY event_id")).all()
        )
        rows = conn.execute(
            text(
                "SELECT name, error_type, source, message FROM events WHERE event_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": bad_ids},
        ).all()
    engine.dispose()
    assert all(counts.get(i) == 1 for i in ids)
    assert len(rows) == len(bad)
    for name, error_type, source, message in rows:
        for value in (name, error_type, source):
            assert 0 < len(value) <= MAX_NAME_CHARS and "\x00" not in value
        assert message is not None and len(message) <= MAX_MESSAGE_CHARS


def test_objects_whose_comparison_and_hash_raise_are_still_just_text() -> None:
    class Hostile:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no eq")

        def __hash__(self) -> int:
            raise RuntimeError("no hash")

        def __str__(self) -> str:
            return "hostile"

    e = error_event(Hostile(), Hostile(), severity=Hostile(), name=Hostile(), strict=False)
    assert (e.error_type, e.name, e.message, e.severity) == (
        "hostile",
        "hostile",
        "hostile",
        "ERROR",
    )
    assert e.context == {SEVERITY_MARKER: "hostile"}
    assert error_event(Hostile(), "m").error_type == "hostile"  # strict: a type is not a bug
    storable(e)
