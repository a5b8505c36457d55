"""Whatever a caller passes becomes a field every store accepts: safe text and bounded contexts.

The event constructors (`journal.events`) run every field through here, so an event is valid
by construction:

- any object becomes text through `safe_str` (never raises: an object whose ``__str__`` and
  ``__repr__`` both raise is ``<unprintable Foo>``);
- text is clipped to its column's length with a visible ``…[+N]`` marker *before* it is
  scrubbed of secrets (`journal.sanitizing.redaction`), so redaction costs the same for a 10 MB
  message as for a 2 KB one; NUL and lone surrogates (which PostgreSQL, JSONB and UTF-8
  refuse) become U+FFFD;
- a context is walked with a depth bound, an item budget and a character budget, so a
  5,000-deep, cyclic or huge structure costs a bounded walk and never a RecursionError;
  values under secret keys, and header containers in every shape (mappings, lists of
  pairs, ``{"name": ..., "value": ...}``), lose their secrets; the JSON is at most
  `MAX_CONTEXT_BYTES`.
"""

from __future__ import annotations

import json
import json.encoder
import math
import re
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from journal.sanitizing.redaction import REDACTED, is_secret_key, longest_literal, on_change, redact
from journal.sanitizing.safetext import safe_str as _safe_str

MAX_CONTEXT_BYTES = 8 * 1024
MAX_MESSAGE_CHARS = 2000
MAX_VALUE_CHARS = 2000  # one string inside a context
MAX_NAME_CHARS = 255  # source, name, error_type: String(255) in the schema
MAX_KEY_CHARS = 128  # a context key
MAX_CONTEXT_DEPTH = 8  # nested containers below the top-level mapping
MAX_CONTEXT_ITEMS = 512  # values walked per context
MAX_CONTEXT_CHARS = 4 * MAX_CONTEXT_BYTES  # text walked per context before the byte bound
TRUNCATED_MARKER = "__truncated__"
DEPTH_MARKER = "…[nested too deep]"
REPLACEMENT = "\ufffd"
# Text read past a clip point so a secret cut by it is still recognised and scrubbed; the
# margin itself is never shown.
_MARGIN = 512

_bad_chars_re = re.compile("[\x00\ud800-\udfff]")
_INT64 = 1 << 63


def _json_encoder() -> Callable[[Any], str]:
    # The C encoder built once: json.dumps builds one per call, half its cost on a small
    # context. No circular check (markers=None): what we encode is a tree we just built.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    chunks = make(None, None, json.encoder.encode_basestring, None, ":", ",", False, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


encode_json = _json_encoder()
_encode_json = encode_json


# ---------------------------------------------------------------- text


def safe_str(value: object) -> str:
    """`journal.sanitizing.safetext.safe_str` without a length limit (callers here clip after scrubbing)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return repr(bytes(value[: MAX_MESSAGE_CHARS + _MARGIN]))
    return _safe_str(value, None)


def describe_error(error: object) -> str | None:
    """``Type: message`` of an exception (just ``Type`` if it has no text), else `safe_str`."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        name = safe_str(type(error).__name__)
        text = safe_str(error)
        return f"{name}: {text}" if text else name
    return safe_str(error)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…[+N]`` (N characters cut)."""
    if len(text) <= limit:
        return text
    keep = _room(len(text), limit)
    return f"{text[:keep]}…[+{len(text) - keep}]"


def _room(total: int, limit: int) -> int:
    """How many characters fit before a ``…[+N]`` marker within ``limit``."""
    keep = max(0, limit - 4 - len(str(total)))
    while keep + 5 + len(str(total - keep - 1)) <= limit:  # N got shorter: fill up
        keep += 1
    return keep


def scrub_chars(text: str) -> str:
    """NUL and lone surrogates replaced by U+FFFD (same length)."""
    if "\x00" in text or not text.isascii():
        return _bad_chars_re.sub(REPLACEMENT, text)
    return text


def has_bad_chars(text: str) -> bool:
    """Does ``text`` hold a NUL or a lone surrogate?"""
    return "\x00" in text or (not text.isascii() and _bad_chars_re.search(text) is not None)


# Safe text of short texts (names, keys, repeated values): one lookup on the hot path.
# Entries are at most `_CACHED_CHARS` long on both sides, so they fit every limit but keys'.
_CACHED_CHARS = MAX_NAME_CHARS
_CACHE_MAX_ENTRIES = 8192
_safe_cache: dict[str, str] = {}
_key_cache: dict[str, tuple[str, bool]] = {}
on_change(_safe_cache.clear)
on_change(_key_cache.clear)


def safe_text(value: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Any value as storable text: clipped to ``limit``, scrubbed of secrets, no NUL/surrogates."""
    text = value if type(value) is str else safe_str(value)
    # Length first: hashing a 10 MB text for a cache lookup would cost what clipping saves.
    if limit >= _CACHED_CHARS and len(text) <= _CACHED_CHARS:
        hit = _safe_cache.get(text)
        if hit is not None:
            return hit
    if len(text) > limit:
        return _clipped_text(text, limit)
    safe = redact(text)
    if "\x00" in safe or not safe.isascii():
        safe = _bad_chars_re.sub(REPLACEMENT, safe)
    if len(safe) > limit:  # redaction can lengthen a text (a short secret -> the marker)
        safe = clip(safe, limit)
    if len(text) <= _CACHED_CHARS and len(safe) <= _CACHED_CHARS:
        if len(_safe_cache) >= _CACHE_MAX_ENTRIES:
            _safe_cache.clear()
        _safe_cache[text] = safe
    return safe


def _clipped_text(text: str, limit: int) -> str:
    # Redact a prefix a margin longer than what is kept, then drop the margin: a secret cut
    # at the prefix's end is either recognised whole or lies in the margin.
    margin = max(_MARGIN, longest_literal())
    cut = len(text) > limit + margin
    head = scrub_chars(redact(text[: limit + margin] if cut else text))
    if not cut and len(head) <= limit:  # redaction shortened it enough
        return head
    keep = _room(len(text), limit)
    if cut:
        keep = min(keep, len(head) - margin)
    keep = max(0, keep)
    return f"{head[:keep]}…[+{len(text) - keep}]"


def name_text(value: object, default: str = "unknown") -> str:
    """A name-like field (source, name, error type): a class gives its name; never empty."""
    if type(value) is str and len(value) <= _CACHED_CHARS:
        hit = _safe_cache.get(value)
        if hit:
            return hit
    elif isinstance(value, type):
        value = getattr(value, "__qualname__", None) or safe_str(value)
    text = safe_text(value, MAX_NAME_CHARS) if value is not None else ""
    return text or default


# ---------------------------------------------------------------- context


class _Budget:
    __slots__ = ("chars", "items")

    def __init__(self) -> None:
        self.items = MAX_CONTEXT_ITEMS
        self.chars = MAX_CONTEXT_CHARS


# Fields that label the "value" of a header/parameter record: {"name": "Authorization", "value": ...}
_LABELS = ("name", "key", "header", "field", "param", "parameter")


def _key(key: object) -> tuple[str, bool]:
    """A context key as safe text, and whether it names a secret."""
    hit = _key_cache.get(key) if type(key) is str and len(key) <= MAX_KEY_CHARS else None
    if hit is None:
        text = safe_text(key, MAX_KEY_CHARS)
        hit = (text, is_secret_key(text))
        if type(key) is str and len(key) <= MAX_KEY_CHARS:
            if len(_key_cache) >= _CACHE_MAX_ENTRIES:
                _key_cache.clear()
            _key_cache[key] = hit
    return hit


def _hides_secret(value: object) -> bool:
    # None, "" and booleans say nothing about a secret ("authenticated": true stays).
    return not (value is None or value == "" or type(value) is bool)


def _string(value: str, budget: _Budget) -> str:
    if budget.chars <= 0:
        return f"…[+{len(value)}]"
    text = safe_text(value, MAX_VALUE_CHARS)
    budget.chars -= len(text)
    return text


def _label(mapping: Mapping[Any, Any]) -> str | None:
    """The label of a ``{"name": "Authorization", "value": ...}`` record, if it is one."""
    if "value" not in mapping:
        return None
    for field in _LABELS:
        name = mapping.get(field)
        if type(name) is str:
            return name
    return None


def _mapping(mapping: Mapping[Any, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    label = _label(mapping)
    size = len(mapping)
    if size > budget.items:
        return _mapping_clipped(mapping, depth, budget, label)
    budget.items -= size  # the whole mapping fits: no per-item accounting
    keys = _key_cache
    cached = _safe_cache
    for k, v in mapping.items():
        hit = keys.get(k) if type(k) is str and len(k) <= MAX_KEY_CHARS else None
        key, secret = hit if hit is not None else _key(k)
        if label is not None:
            if key == "value":
                secret = is_secret_key(label)
            elif key in _LABELS:  # a label names a header or parameter, it holds no secret
                secret = False
        if secret and _hides_secret(v):
            out[key] = REDACTED
            continue
        # Inline fast paths for the common values; the rest through `_value`.
        t = type(v)
        if t is str:
            out[key] = (len(v) <= _CACHED_CHARS and cached.get(v)) or _string(v, budget)
        elif t is int and -_INT64 <= v < _INT64:
            out[key] = v
        else:
            out[key] = _value(v, depth, budget)
    return out


def _mapping_clipped(
    mapping: Mapping[Any, Any], depth: int, budget: _Budget, label: str | None
) -> dict[str, Any]:
    # More items than the budget left: take what fits, then a marker.
    out: dict[str, Any] = {}
    for seen, (k, v) in enumerate(mapping.items()):
        if budget.items <= 0:
            out[TRUNCATED_MARKER] = {"dropped_items": len(mapping) - seen}
            break
        budget.items -= 1
        key, secret = _key(k)
        if label is not None:
            if key == "value":
                secret = is_secret_key(label)
            elif key in _LABELS:
                secret = False
        out[key] = REDACTED if secret and _hides_secret(v) else _value(v, depth, budget)
    return out


def _items(seq: Any, depth: int, budget: _Budget) -> list[Any]:
    out: list[Any] = []
    for seen, item in enumerate(seq):
        if budget.items <= 0:
            out.append({TRUNCATED_MARKER: {"dropped_items": len(seq) - seen}})
            break
        budget.items -= 1
        # A (name, value) pair whose name is a secret key: a header list.
        if (
            type(item) in (tuple, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and is_secret_key(item[0])
            and _hides_secret(item[1])
        ):
            out.append([_key(item[0])[0], REDACTED])
        else:
            out.append(_value(item, depth, budget))
    return out


def _value(value: Any, depth: int, budget: _Budget) -> Any:
    """JSON-safe, bounded and redacted; ``depth`` counts the containers above ``value``."""
    t = type(value)
    if t is str:
        return _string(value, budget)
    if t is int:
        return value if -_INT64 <= value < _INT64 else _big_int(value, budget)
    if value is None or t is bool:
        return value
    if t is float:
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (Mapping, list, tuple, set, frozenset, deque)):
        if depth >= MAX_CONTEXT_DEPTH:
            return DEPTH_MARKER
        if isinstance(value, Mapping):
            return _mapping(value, depth + 1, budget)
        if isinstance(value, (set, frozenset)):
            value = list(value)
        return _items(value, depth + 1, budget)
    if isinstance(value, Enum):
        return _value(value.value, depth + 1, budget) if depth < MAX_CONTEXT_DEPTH else DEPTH_MARKER
    if isinstance(value, str):
        return _string(str.__str__(value), budget)
    if isinstance(value, int):  # IntFlag and other int subclasses
        return _value(int(value), depth, budget)
    if isinstance(value, float):
        return _value(float(value), depth, budget)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, BaseException):
        return _string(describe_error(value) or "", budget)
    return _string(safe_str(value), budget)


def _big_int(value: int, budget: _Budget) -> str:
    # Beyond 64 bits JSON readers lose precision; beyond ~4300 digits str() itself refuses.
    if value.bit_length() > 8192:
        return f"<int of {value.bit_length()} bits>"
    return _string(str(value), budget)


def context_dict(context: object) -> dict[str, Any]:
    """A context as a JSON-safe, redacted, bounded dict (a non-mapping goes under ``value``)."""
    budget = _Budget()
    if type(context) is dict or isinstance(context, Mapping):
        return _mapping(context, 0, budget)
    return {"value": _value(context, 1, budget)}


def encode_context(context: object, extra: Mapping[str, str] | None = None) -> str:
    """Redact, make JSON-safe and bound a context; return its compact JSON text. Never raises."""
    if not context and not extra:
        return "{}"
    try:
        safe = context_dict(context) if context else {}
    except Exception as exc:  # a caller's mapping that raises while it is read
        safe = {TRUNCATED_MARKER: {"unreadable": safe_text(describe_error(exc), 200)}}
    if extra:
        safe.update(extra)
    text: str = _encode_json(safe)
    if len(text) * 4 <= MAX_CONTEXT_BYTES or len(text.encode("utf-8")) <= MAX_CONTEXT_BYTES:
        return text
    # Keep whole top-level keys while they fit, then a marker with what was left out.
    kept: dict[str, Any] = {}
    budget = MAX_CONTEXT_BYTES - 200
    used = 2
    for key, val in safe.items():
        size = len(_encode_json({key: val}).encode("utf-8"))
        if used + size > budget:
            continue
        kept[key] = val
        used += size
    kept[TRUNCATED_MARKER] = {
        "original_bytes": len(text.encode("utf-8")),
        "dropped_keys": len(safe) - len(kept),
    }
    result: str = _encode_json(kept)
    return result
