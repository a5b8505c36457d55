"""The journal's own exception hierarchy: raised at the edges with messages a user can act on."""

from __future__ import annotations


class JournalError(Exception):
    """Base of every error the journal raises on purpose."""


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
        super().__init__(f"{detail}: {msg}" if detail else msg)


class CircuitBreakerError(JournalError):
    """A call was rejected because breaker ``name`` is OPEN (or HALF_OPEN with no trial slot free).

    Raised as ``CircuitBreakerError(name, state, retry_after)``. The fields live in ``args``
    and the message is built in ``__str__``: with no Python-level ``__init__``, a fast-fail
    stays cheap.
    """

    @property
    def name(self) -> str:
        """The breaker that rejected the call."""
        return str(self.args[0])

    @property
    def state(self) -> str:
        """OPEN, or HALF_OPEN when every trial slot was taken."""
        return str(self.args[1])

    @property
    def retry_after(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when HALF_OPEN)."""
        value = float(self.args[2])
        return value if value > 0.0 else 0.0

    def __str__(self) -> str:
        if self.state == "OPEN":
            detail = f"next trial call in {self.retry_after:.1f}s"
        else:
            detail = "trial calls in progress"
        return f"circuit breaker {self.name!r} is {self.state}: call rejected ({detail})"


class RetryError(JournalError):
    """Every attempt failed: ``attempts`` made, ``last_exception`` the final failure."""

    def __init__(self, name: str, attempts: int, last_exception: BaseException | None) -> None:
        self.name = name
        self.attempts = attempts
        self.last_exception = last_exception
        last = (
            f"{type(last_exception).__name__}: {last_exception}"
            if last_exception
            else "no exception"
        )
        super().__init__(f"{name}: gave up after {attempts} attempt(s); last error {last}")


class StoreDataError(StoreError):
    """The store refused the rows themselves (too long, NUL byte, bad type, constraint): not an
    outage. Retrying the same rows fails again; the writer sets the bad ones aside."""


class StoreFileChanged(StoreUnavailable):
    """The SQLite file was deleted or replaced under the store; the last batch must be re-sent."""
