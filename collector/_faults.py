"""What the hardened client does with each ccxt failure: the error classes and the table.

Pure: a function of the exception (and the HTTP status seen for its request), no IO. ccxt 4.5.90's
classes are not one tree (``RateLimitExceeded`` is not a ``DDoSProtection``; ``OperationFailed``
is the *parent* of ``NetworkError``), so the table names every class it means.

====================================  ==========  ============================================
ccxt raises (fault)                   action      notes
====================================  ==========  ============================================
RequestTimeout (stall, 504)           retry       re-raised as `RequestTimedOut` (also a
                                                  builtin ``TimeoutError``)
ExchangeNotAvailable (5xx, reset)     retry
DDoSProtection, status 429            retry       waits at least the response's Retry-After
DDoSProtection, status 418            ban         Retry-After (default 120 s) closes the
                                                  client's gate: no request until it ends
RateLimitExceeded (-1003 in body)     retry
OperationFailed (-1000/-1001/-1008)   retry
InvalidNonce (-1021)                  resync      ``load_time_difference()``, then retry
BadResponse (ours: garbage, empty)    retry
AuthenticationError, PermissionDenied give up     CRITICAL in the journal
BadSymbol, BadRequest, NotSupported   give up     the caller's mistake: WARNING
anything else                         give up     ERROR
====================================  ==========  ============================================
"""

from __future__ import annotations

import enum
import re

import ccxt

from journal.errors import RetryError
from journal.sanitizing.redaction import redact_text


class BadResponse(ccxt.BadResponse, ValueError):  # type: ignore[misc]
    """The exchange answered 200 with data that is not what was asked for (garbage, empty,
    non-finite, out of order, another symbol). Retried; the seed's "ValueError if empty"."""


class RequestTimedOut(ccxt.RequestTimeout, TimeoutError):  # type: ignore[misc]
    """ccxt's ``RequestTimeout`` that is also a builtin ``TimeoutError`` (the seed's Scenario 2)."""


class IPBanned(ccxt.DDoSProtection):  # type: ignore[misc]
    """The exchange banned this IP (HTTP 418): refused without a request until ``retry_after``."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryTimeoutError(RetryError, TimeoutError):
    """Every attempt failed and the last one timed out: a `RetryError` and a ``TimeoutError``."""


class RetryBadResponseError(RetryError, ValueError):
    """Every attempt failed and the last answer was garbage: a `RetryError` and a ``ValueError``
    (the seed's Scenario 3: "Raises ValueError if empty")."""


def retry_error_for(err: RetryError) -> RetryError:
    """``err`` as the subclass that also carries its last failure's builtin family."""
    last = err.last_exception
    if isinstance(last, ccxt.RequestTimeout) and not isinstance(err, TimeoutError):
        return RetryTimeoutError(err.name, err.attempts, last)
    if isinstance(last, BadResponse) and not isinstance(err, ValueError):
        return RetryBadResponseError(err.name, err.attempts, last)
    return err


class LiquidationsNotSupported(ccxt.NotSupported):  # type: ignore[misc]
    """Binance USD-M has no public REST endpoint for market-wide liquidations."""


class Action(enum.Enum):
    """What the client does after a failed attempt."""

    RETRY = "retry"
    RESYNC = "resync"  # resynchronise the clock, then retry
    BAN = "ban"  # close the client's gate for the ban, then retry after it
    GIVE_UP = "give_up"


# The retry policy's lists (journal.resilience.retry.RetryPolicy): retried, and never retried.
RETRY_ON: tuple[type[BaseException], ...] = (
    ccxt.RequestTimeout,
    ccxt.ExchangeNotAvailable,
    ccxt.DDoSProtection,
    ccxt.RateLimitExceeded,
    ccxt.OperationFailed,  # -1000/-1001/-1008; also the parent of every NetworkError
    ccxt.InvalidNonce,
    BadResponse,
)
GIVE_UP_ON: tuple[type[BaseException], ...] = (
    ccxt.AuthenticationError,  # PermissionDenied and AccountSuspended too
    ccxt.BadRequest,  # BadSymbol too
    ccxt.NotSupported,
    ccxt.ExchangeClosedByUser,
)
DEFAULT_BAN_S = 120.0  # a 418 without Retry-After: Binance's shortest ban


def classify(exc: BaseException, status: int | None = None) -> Action:
    """The action for a failed attempt; ``status`` is the HTTP status of its last response."""
    if isinstance(exc, GIVE_UP_ON) or not isinstance(exc, RETRY_ON):
        return Action.GIVE_UP
    if isinstance(exc, IPBanned):
        return Action.RETRY  # the gate refused it: wait out the ban
    if isinstance(exc, ccxt.DDoSProtection) and (
        status == 418 or (status is None and " 418 " in _head(exc))
    ):
        return Action.BAN
    if isinstance(exc, ccxt.InvalidNonce) and not isinstance(exc, ccxt.ChecksumError):
        return Action.RESYNC
    return Action.RETRY


def severity(exc: BaseException, action: Action) -> str:
    """The journal severity of a failed attempt."""
    if action is Action.BAN or isinstance(exc, ccxt.AuthenticationError):
        return "CRITICAL"  # an operator must act (credentials, or a ban that may escalate)
    if isinstance(exc, (ccxt.BadRequest, ccxt.NotSupported)):
        return "WARNING"  # the caller asked for something that does not exist
    return "ERROR"


def _head(exc: BaseException) -> str:
    try:
        return str(exc)[:40]
    except Exception:
        return ""


# Signed requests put these in the query; ccxt's messages for 5xx/timeouts/resets carry the
# whole URL, and its DEBUG log the request headers (X-MBX-APIKEY).
_SIGNED_QUERY = re.compile(r"(?i)([?&](?:signature|timestamp|recvWindow)=)[^&#\s'\"<>]*")
_API_KEY_HEADER = re.compile(r"(?i)(X-MBX-APIKEY['\"]?\s*[:=]\s*['\"]?)[^'\"\s,;}]*")
SCRUBBED = "***"


def scrub(text: str) -> str:
    """Text with signed-request parameters, the API-key header and every secret removed."""
    if "=" in text:
        text = _SIGNED_QUERY.sub(rf"\g<1>{SCRUBBED}", text)
    if "x-mbx-apikey" in text.lower():
        text = _API_KEY_HEADER.sub(rf"\g<1>{SCRUBBED}", text)
    return redact_text(text)


def scrub_exception(exc: BaseException) -> None:
    """Scrub an exception's message in place (same object and class), for every later reader:
    the caller's traceback, the retry and breaker events, `RetryError`'s message."""
    try:
        args = exc.args
        if len(args) == 1 and isinstance(args[0], str):
            clean = scrub(args[0])
            if clean != args[0]:
                exc.args = (clean,)
    except Exception:  # an exception we cannot rewrite keeps its text; the journal redacts too
        pass
