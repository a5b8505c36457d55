"""The journal's own exception hierarchy: raised at the edges with messages a user can act on."""

from __future__ import annotations

from journal.sanitizing.safetext import safe_repr, safe_str


class JournalError(Exception):
    """Base of every error the journal raises on purpose."""

    def __str__(self) -> str:
        # Whatever the args are (none, an object with a broken __str__...), str() works.
        try:
            return super().__str__()
        except Exception:
            args = self.args
            if len(args) == 1:
                return safe_str(args[0])
            return "(" + ", ".join(safe_repr(a) for a in args) + ")"

    def __repr__(self) -> str:
        try:
            return super().__repr__()
        except Exception:
            return f"{type(self).__name__}({', '.join(safe_repr(a) for a in self.args)})"


class ConfigError(JournalError):
    """Bad configuration or user input (a URL, a time range, an option)."""


class StoreError(JournalError):
    """The event store failed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (connection refused, reset, timed out)."""


class SchemaNotReady(StoreError):
    """The database is reachable but not migrated to the current schema."""

    def __init__(self, detail: str = "") -> None:
        msg = "database is not migrated to the current schema; run: journal migrate"
        super().__init__(f"{safe_str(detail)}: {msg}" if detail else msg)


class CircuitBreakerError(JournalError):
    """A call was rejected because breaker ``name`` is OPEN (or HALF_OPEN with no trial slot free).

    Raised as ``CircuitBreakerError(name, state, retry_after)``. The fields live in ``args``
    and the message is built in ``__str__``: with no Python-level ``__init__``, a fast-fail
    stays cheap. Any other args (none, a message) still give a working ``str()``.
    """

    @property
    def name(self) -> str:
        """The breaker that rejected the call."""
        return safe_str(self.args[0], 200) if self.args else "?"

    @property
    def state(self) -> str:
        """OPEN, or HALF_OPEN when every trial slot was taken."""
        return safe_str(self.args[1], 20) if len(self.args) > 1 else "OPEN"

    @property
    def retry_after(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when HALF_OPEN)."""
        try:
            value = float(self.args[2])
        except Exception:  # not raised by the breaker: no wait known
            return 0.0
        return value if value > 0.0 else 0.0

    def __str__(self) -> str:
        if len(self.args) != 3:
            return super().__str__()
        if self.state == "OPEN":
            detail = f"next trial call in {self.retry_after:.1f}s"
        else:
            detail = "trial calls in progress"
        return f"circuit breaker {self.name!r} is {self.state}: call rejected ({detail})"


class RetryError(JournalError):
    """Every attempt failed: ``attempts`` made, ``last_exception`` the final failure."""

    def __init__(
        self, name: str = "", attempts: int = 0, last_exception: BaseException | None = None
    ) -> None:
        self.name = name
        self.attempts = attempts
        self.last_exception = last_exception
        # The message is built from text the caller's code produced: never let a broken
        # __str__ escape, and never carry a secret the exception text held.
        if last_exception is None:
            last = "no exception"
        else:
            text = safe_str(last_exception, 500)
            kind = type(last_exception).__name__
            last = f"{kind}: {text}" if text else kind
        from journal.sanitizing.redaction import redact_text  # here: redaction imports this module

        super().__init__(
            redact_text(
                f"{safe_str(name, 200)}: gave up after {safe_str(attempts, 20)} attempt(s); "
                f"last error {last}"
            )
        )


class StoreDataError(StoreError):
    """The store refused the rows themselves (too long, NUL byte, bad type, constraint): not an
    outage. Retrying the same rows fails again; the writer sets the bad ones aside."""


class StoreFileChanged(StoreUnavailable):
    """The SQLite file was deleted or replaced under the store; the last batch must be re-sent."""
