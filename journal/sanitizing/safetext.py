"""Text of arbitrary objects that never raises: exceptions handed to us may have a broken ``__str__``.

The resilience primitives format what callers hand them (exceptions, error types, contexts).
A ``__str__`` or ``__repr__`` that raises must not turn into an exception in the caller's
frame, so every such formatting goes through `safe_str` / `safe_repr`.
"""

from __future__ import annotations

DEFAULT_LIMIT = 2000


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
