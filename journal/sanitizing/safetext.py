"""Text of arbitrary objects that never raises: exceptions handed to us may have a broken ``__str__``.

The resilience primitives format what callers hand them (exceptions, error types, contexts).
A ``__str__`` or ``__repr__`` that raises must not turn into an exception in the caller's
frame, so every such formatting goes through `safe_str` / `safe_repr`.

Text from the journal shown on a terminal goes through `printable`: the journal keeps what
was recorded, control characters included (an exchange's error page, a hostile message),
and a terminal must not obey them.
"""

from __future__ import annotations

import re

DEFAULT_LIMIT = 2000

# What a terminal would act on or that reorders what people read: C0 controls (ESC starts
# the escape sequences that move the cursor, clear the screen, set the title or write the
# clipboard), DEL, C1 controls (CSI and OSC in one byte), the line and paragraph separators
# and the bidirectional overrides and isolates. Printable text, emoji sequences included,
# is left alone.
_OTHER_CONTROLS = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_unprintable_re = re.compile("[\x00-\x1f" + _OTHER_CONTROLS + "]")
_unprintable_but_newline_re = re.compile("[\x00-\x09\x0b-\x1f" + _OTHER_CONTROLS + "]")


def _type_name(obj: object) -> str:
    try:
        name = type(obj).__name__
        return name if isinstance(name, str) else "object"
    except Exception:  # a metaclass can make even __name__ raise
        return "object"


def _clip(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 3)] + "..."
    return text


def safe_str(obj: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """``str(obj)`` clipped to ``limit`` chars, or ``<unprintable TypeName>`` if that raises."""
    if type(obj) is str:
        return _clip(obj, limit)
    try:
        text = str(obj)
        if type(text) is not str:  # a str subclass can carry its own __str__ further on
            text = str.__str__(text)
    except Exception:
        return f"<unprintable {_type_name(obj)}>"
    return _clip(text, limit)


def safe_repr(obj: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """``repr(obj)`` clipped to ``limit`` chars, or ``<unprintable TypeName>`` if that raises."""
    try:
        text = repr(obj)
        if type(text) is not str:
            text = str.__str__(text)
    except Exception:
        return f"<unprintable {_type_name(obj)}>"
    return _clip(text, limit)


def describe_exception(exc: BaseException, limit: int | None = DEFAULT_LIMIT) -> str:
    """``Type: message`` of an exception (just ``Type`` when the message is empty); never raises."""
    name = _type_name(exc)
    try:  # inlined safe_str: record_error runs this on every call
        text = str(exc)
        if type(text) is not str:
            text = str.__str__(text)
    except Exception:
        text = f"<unprintable {name}>"
    return _clip(f"{name}: {text}", limit) if text else name


def _escaped(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` safe to show on a terminal: each control character becomes its visible escape
    (ESC -> ``\\x1b``, a bidi override -> ``\\u202e``); ``newlines`` keeps line feeds for text
    shown on several lines. Printable text comes back as it is (the same object)."""
    if text.isprintable():
        return text
    return (_unprintable_but_newline_re if newlines else _unprintable_re).sub(_escaped, text)
