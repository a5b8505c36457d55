"""`HardenedBinanceFuturesClient`: ccxt's Binance USD-M client behind retries, breakers and checks.

Each public method is one *call*: a retry sequence (``async_retry_api_call``, the seed's preset:
5 retries, 2 s doubling, 120 s cap) around the endpoint's circuit breaker, around one *attempt*
(resolve the symbol, one ccxt request, validate). Retry outside, breaker inside, as in the
seed's Scenario 1:

- every failed attempt counts as one breaker failure, so the 10th consecutive failed request
  opens the breaker, even in the middle of a retry sequence; that failure ends the sequence at
  once (it is re-raised, unwrapped: sleeping before an attempt that can only be rejected would
  be wasted), and every later call is rejected with `CircuitBreakerError` before any request;
- after ``recovery_timeout`` the next call is a HALF_OPEN trial; two successful trials close it.
- Only transient failures (`_faults.RETRY_ON`) count; the caller's mistakes (BadSymbol,
  BadRequest, NotSupported) and credentials (AuthenticationError) pass through the breaker
  uncounted and are never retried.

What the caller sees: the records; or the non-retried ccxt error; or `RetryError` when every
attempt failed (`RetryTimeoutError`, also a builtin ``TimeoutError``, when the last one timed
out; `RetryBadResponseError`, also a ``ValueError``, when the last answer was garbage); or the failure that opened a breaker; or `CircuitBreakerError`. Every timeout surfaces as
`RequestTimedOut` (a ccxt ``RequestTimeout`` and a builtin ``TimeoutError``), so ``except
TimeoutError`` catches timeouts however the sequence ended (the seed's Scenario 2).

Retry-After comes from the response of *that* request: ccxt's per-response hook
(``on_rest_response``, called in the requesting task) writes each response's status, headers and
body into a slot held in a ``ContextVar`` set by the attempt. Concurrent calls run in their own tasks, so each sees only its own response (ccxt's
``last_response_headers`` is shared by the instance, and racy). A 418 (IP ban) also closes a
client-wide gate for the ban: until it ends, attempts on every endpoint fail with `IPBanned`
without a request, and their retries wait for the ban's end.

Secrets: the key and secret are registered as redaction literals; exception messages are
scrubbed in place (signed URLs carry ``signature``, ``timestamp``, ``recvWindow``), and ccxt logs
through a logger of ours that scrubs every record (its DEBUG records carry ``X-MBX-APIKEY``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple, TypeVar, cast

import ccxt

from journal.errors import RetryError
from journal.resilience.breaker import CircuitBreaker, CircuitBreakerManager
from journal.resilience.retry import async_retry_api_call, retry_after_of
from journal.sanitizing.redaction import library_logger, register_secret

from . import _validate as check
from ._faults import (
    DEFAULT_BAN_S,
    GIVE_UP_ON,
    RETRY_ON,
    Action,
    BadResponse,
    IPBanned,
    LiquidationsNotSupported,
    RequestTimedOut,
    RetryBadResponseError,
    RetryTimeoutError,
    classify,
    retry_error_for,
    scrub,
    scrub_exception,
    severity,
)
from .exchange import make_exchange
from .records import TRADER_RATIO_KINDS, Candle, FundingRate, OpenInterest, TraderRatio

__all__ = [
    "ENDPOINTS",
    "BadResponse",
    "HardenedBinanceFuturesClient",
    "IPBanned",
    "Liquidation",
    "LiquidationsNotSupported",
    "RequestTimedOut",
    "RetryBadResponseError",
    "RetryTimeoutError",
]

T = TypeVar("T")
log = library_logger("journal.collector")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint family: its breaker's name and its error type in the journal (the seed's)."""

    breaker: str
    error_type: str


ENDPOINTS: dict[str, Endpoint] = {
    "ohlcv": Endpoint("binance_ohlcv", "api_ohlcv_error"),
    "oi": Endpoint("binance_oi", "api_oi_error"),
    "funding": Endpoint("binance_funding", "api_funding_error"),
    "liquidations": Endpoint("binance_liquidations", "api_liquidations_error"),
    "trader_ratio": Endpoint("binance_trader_ratio", "api_trader_ratio_error"),
}


class Liquidation(NamedTuple):
    """One of the account's own liquidations (signed ``fetch_my_liquidations``)."""

    symbol: str
    ts: int
    price: float
    contracts: float
    quote_value: float | None


# ---------------------------------------------------------------- per-request responses


class _Slot:
    """The status, headers and body of the last response seen by one attempt."""

    __slots__ = ("body", "headers", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: Mapping[str, str] | None = None
        self.body: str | None = None

    def clear(self) -> None:
        self.status = self.headers = self.body = None

    def retry_after(self) -> str | None:
        headers = self.headers
        if not headers:
            return None
        value = headers.get("Retry-After")
        if value is None:  # ccxt keeps the server's spelling; HTTP/2 servers send lower case
            for key, v in headers.items():
                if key.lower() == "retry-after":
                    return v
        return value


_SLOT: ContextVar[_Slot | None] = ContextVar("journal_collector_response", default=None)


def _hook_responses(ex: Any) -> None:
    """Route every response's status, headers and body to the current attempt's slot, through
    ccxt's per-response hook ``on_rest_response`` (called in the requesting task)."""
    real = ex.on_rest_response

    def on_rest_response(
        code: Any,
        reason: Any,
        url: Any,
        method: Any,
        response_headers: Any,
        response_body: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        slot = _SLOT.get()
        if slot is not None:
            slot.status = code
            slot.headers = response_headers
            slot.body = response_body
        return real(
            code,
            reason,
            url,
            method,
            response_headers,
            response_body,
            request_headers,
            request_body,
        )

    ex.on_rest_response = on_rest_response


def _genuinely_empty(records: list[T], what: str) -> list[T]:
    """An empty result where empty is allowed: only if the body really was an empty JSON list
    (ccxt turns a truncated or HTML body into ``[]`` too)."""
    if not records:
        slot = _SLOT.get()
        body = slot.body if slot is not None else None
        if body is not None and body.strip() != "[]":
            try:
                ok = json.loads(body) == []
            except ValueError:
                ok = False
            if not ok:
                raise BadResponse(
                    f"bad response from {what}: an empty result from a body that is not []"
                )
    return records


class _ScrubFilter(logging.Filter):
    """Scrub signed-query values and the API-key header from ccxt's log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = scrub(record.getMessage())
            record.args = None
        except Exception:
            record.msg = "<ccxt log record withheld: it could not be scrubbed>"
            record.args = None
        return True


def _ccxt_logger() -> logging.Logger:
    """The logger our ccxt instances log to (instead of ``ccxt.base.exchange``), scrubbed."""
    logger = library_logger("journal.collector.ccxt")
    if not any(isinstance(f, _ScrubFilter) for f in logger.filters):
        logger.addFilter(_ScrubFilter())
    return logger


# ---------------------------------------------------------------- the client


@dataclass(slots=True)
class _Call:
    """One public call: what the journal's context says about it."""

    endpoint: str  # the method, e.g. "fetch_ohlcv"
    symbol: str
    attempt: int = 0


class _Guarded:
    """An endpoint's breaker and its retrying entry point."""

    def __init__(self, spec: Endpoint, breaker: CircuitBreaker, run: Any) -> None:
        self.spec = spec
        self.breaker = breaker
        self.run: Callable[[_Call, Callable[[Any], Awaitable[Any]]], Awaitable[Any]] = run


class HardenedBinanceFuturesClient:
    """Binance USD-M market data through ccxt, with retries, circuit breakers, validation and a journal."""

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        testnet: bool = False,
        *,
        exchange_url: str | None = None,
        timeout_ms: int = 10_000,
        enable_rate_limit: bool = True,
        max_retries: int = 5,
        initial_delay: float = 2.0,
        max_delay: float = 120.0,
        failure_threshold: int = 10,
        recovery_timeout: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        jitter: bool = True,
        clock: Callable[[], float] | None = None,
        breaker_manager: CircuitBreakerManager | None = None,
    ) -> None:
        for label, value in (("api_key", api_key), ("api_secret", api_secret)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{label} must be a str")
        # Scrubbed wherever they might appear from now on (raises for a literal too short to scrub).
        register_secret(api_key)
        register_secret(api_secret)
        self._api_key = api_key
        self._api_secret = api_secret
        self.testnet = testnet
        self.exchange_url = exchange_url
        self.timeout_ms = int(timeout_ms)
        self.enable_rate_limit = enable_rate_limit
        self._clock = clock or time.monotonic
        self._banned_until = 0.0
        self._ex: Any = None
        self._closed = False
        self._seen_markets: dict[str, tuple[Any, dict[str, Any]]] = {}  # see `_market`
        # The first event of a process configures the default journal (which migrates its
        # database): do it now, not inside the event loop while requests are in flight.
        from journal.process.lifecycle import get_journal

        get_journal()
        if breaker_manager is None:
            from journal.resilience.breaker import get_circuit_breaker_manager

            breaker_manager = get_circuit_breaker_manager()
        self._endpoints: dict[str, _Guarded] = {}
        for key, spec in ENDPOINTS.items():
            breaker = breaker_manager.get_breaker(
                spec.breaker,
                failure_threshold=failure_threshold,
                recovery_timeout=recovery_timeout,
                expected_exception=RETRY_ON,
                exclude=(IPBanned,),
                clock=self._clock,
            )
            retrying = async_retry_api_call(
                max_retries=max_retries,
                initial_delay=initial_delay,
                max_delay=max_delay,
                jitter=jitter,
                retry_on=RETRY_ON,
                give_up_on=GIVE_UP_ON,
                name=spec.breaker,  # retry events carry the breaker's name
                sleep=sleep,
            )
            self._endpoints[key] = _Guarded(spec, breaker, retrying(self._guard(spec, breaker)))

    def _guard(
        self, spec: Endpoint, breaker: CircuitBreaker
    ) -> Callable[[_Call, Callable[[Any], Awaitable[Any]]], Awaitable[Any]]:
        attempt = self._attempt

        async def call(c: _Call, op: Callable[[Any], Awaitable[Any]]) -> Any:
            return await breaker.call_async(attempt, spec, c, op)

        return call

    # ------------------------------------------------------------ lifecycle

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The endpoint breakers, by name (``binance_ohlcv``, ``binance_oi``, ...)."""
        return {g.spec.breaker: g.breaker for g in self._endpoints.values()}

    @property
    def exchange(self) -> Any:
        """The ccxt instance (None before the first call); for inspection, not for calls."""
        return self._ex

    def _open(self) -> Any:
        ex = self._ex
        if ex is not None:
            return ex
        if self._closed:
            raise ccxt.ExchangeClosedByUser("HardenedBinanceFuturesClient is closed")
        ex = make_exchange(
            base_url=self.exchange_url,
            api_key=self._api_key,
            api_secret=self._api_secret,
            testnet=self.testnet,
            timeout_ms=self.timeout_ms,
            enable_rate_limit=self.enable_rate_limit,
        )
        ex.verbose = False  # verbose prints headers (the API key) to stdout
        ex.logger = _ccxt_logger()
        _hook_responses(ex)
        self._ex = ex
        return ex

    async def close(self) -> None:
        """Close the ccxt instance (and its HTTP session); emit the breakers' pending tallies."""
        self._closed = True
        ex, self._ex = self._ex, None
        try:
            if ex is not None:
                await ex.close()
        finally:
            for g in self._endpoints.values():
                g.breaker.flush_tallies()

    async def __aenter__(self) -> HardenedBinanceFuturesClient:
        self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def print_error_summary(self, console: Any = None) -> None:
        """Print the journal's error dashboard (the seed's ``client.print_error_summary()``)."""
        from journal.process.lifecycle import get_error_tracker

        for g in self._endpoints.values():
            g.breaker.flush_tallies()
        get_error_tracker().print_summary(console)

    # ------------------------------------------------------------ the attempt

    async def _run(self, key: str, call: _Call, op: Callable[[Any], Awaitable[T]]) -> T:
        try:
            return cast(T, await self._endpoints[key].run(call, op))
        except RetryError as err:
            better = retry_error_for(err)
            if better is err:
                raise
            raise better from err.last_exception

    async def _attempt(self, spec: Endpoint, call: _Call, op: Callable[[Any], Awaitable[T]]) -> T:
        call.attempt += 1
        now = self._clock()
        if now < self._banned_until:
            left = self._banned_until - now
            raise IPBanned(f"binanceusdm: IP banned (HTTP 418); no request for {left:.1f}s", left)
        slot = _Slot()
        token = _SLOT.set(slot)
        try:
            return await op(self._open())
        except Exception as exc:
            failure = self._failed(spec, call, exc, slot)
            if failure is exc:
                if classify(exc, slot.status) is Action.RESYNC:
                    await self._resync()
                raise
            raise failure from exc
        finally:
            _SLOT.reset(token)

    def _failed(self, spec: Endpoint, call: _Call, exc: Exception, slot: _Slot) -> Exception:
        """Scrub, classify and journal a failed attempt; returns the exception to raise."""
        scrub_exception(exc)
        failure: Exception = exc
        if isinstance(exc, ccxt.RequestTimeout) and not isinstance(exc, RequestTimedOut):
            failure = RequestTimedOut(*exc.args)
        elif isinstance(exc, (TypeError, KeyError, AttributeError, IndexError, ValueError)) and (
            not isinstance(exc, (ccxt.BaseError, BadResponse))
        ):  # ccxt choked on garbage while parsing
            failure = BadResponse(
                scrub(f"could not parse the response: {type(exc).__name__}: {exc}")
            )
        action = classify(failure, slot.status)
        if getattr(failure, "retry_after", None) is None:
            value = slot.retry_after()
            if value is not None:
                failure.retry_after = value  # type: ignore[attr-defined]  # journal.resilience.retry reads it
        if action is Action.BAN:
            ban = retry_after_of(failure) or DEFAULT_BAN_S
            failure.retry_after = ban  # type: ignore[attr-defined]
            self._banned_until = max(self._banned_until, self._clock() + ban)
        if not isinstance(failure, IPBanned):  # the gate's refusals made no request
            self._journal(spec, call, failure, action, slot)
        return failure

    def _journal(
        self, spec: Endpoint, call: _Call, exc: Exception, action: Action, slot: _Slot
    ) -> None:
        from journal.process.lifecycle import record_error

        context: dict[str, Any] = {
            "symbol": call.symbol,
            "endpoint": call.endpoint,
            "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "attempt": call.attempt,
            "action": action.value,
        }
        if slot.status is not None:
            context["http_status"] = slot.status
        retry_after = retry_after_of(exc)
        if retry_after is not None:
            context["retry_after"] = retry_after
        record_error(spec.error_type, exc, context, severity(exc, action), name=spec.breaker)

    async def _resync(self) -> None:
        """-1021: the request's timestamp was outside recvWindow: re-measure the clock offset."""
        ex = self._ex
        if ex is None:
            return
        try:
            await ex.load_time_difference()
        except Exception as exc:  # the retry goes ahead; its own failure will be journaled
            log.warning("binanceusdm: could not resynchronise the clock: %s", scrub(str(exc)))

    async def _market(self, ex: Any, symbol: str) -> dict[str, Any]:
        """The unified linear perpetual for "SOL/USDT" or "SOL/USDT:USDT" (markets reloaded once
        if they came back empty or without it)."""
        if type(symbol) is str:
            # Found before in the markets ccxt holds now (a reload makes a new dict): no need to
            # look again. Every call pays this otherwise (a coroutine, string work, checks).
            seen = self._seen_markets.get(symbol)
            if seen is not None and seen[0] is ex.markets:
                return seen[1]
        unified = _unified(symbol)
        markets = await ex.load_markets()
        if not isinstance(markets, dict) or unified not in markets:
            markets = await ex.load_markets(reload=True)
            if not isinstance(markets, dict) or not markets:
                raise BadResponse("bad response from exchangeInfo: no markets")
            if unified not in markets:
                raise ccxt.BadSymbol(
                    f"binanceusdm has no market {symbol!r} (looked for {unified!r})"
                )
        slot = _SLOT.get()
        if slot is not None:  # what follows is the endpoint's request, not exchangeInfo's
            slot.clear()
        market = markets[unified]
        if not isinstance(market, dict) or not (market.get("linear") and market.get("swap")):
            raise ccxt.BadSymbol(f"binanceusdm: {unified!r} is not a linear perpetual")
        if len(self._seen_markets) >= 1000:  # bounded, whatever symbols callers send
            self._seen_markets.clear()
        self._seen_markets[symbol] = (markets, market)
        return market

    # ------------------------------------------------------------ public methods

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Candles, oldest first. Empty is a `BadResponse` unless ``since`` is less than one
        timeframe ago (see `_validate.rows_required`)."""
        step = _period(timeframe)
        _check_range(since, limit)

        async def op(ex: Any) -> list[Candle]:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_ohlcv(market["symbol"], timeframe, since, limit)
            now = _now_ms()
            what = f"fetch_ohlcv({market['symbol']}, {timeframe})"
            return _genuinely_empty(
                check.candles(
                    raw,
                    market["symbol"],
                    timeframe,
                    required=check.rows_required(since, step, now),
                    now_ms=now,
                    what=what,
                ),
                what,
            )

        return await self._run("ohlcv", _Call("fetch_ohlcv", symbol), op)

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        """The current open interest (period "")."""

        async def op(ex: Any) -> OpenInterest:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_open_interest(market["symbol"])
            return check.open_interest(
                raw,
                market["symbol"],
                "",
                now_ms=_now_ms(),
                what=f"fetch_open_interest({market['symbol']})",
            )

        return await self._run("oi", _Call("fetch_open_interest", symbol), op)

    async def fetch_open_interest_history(
        self, symbol: str, period: str = "5m", since: int | None = None, limit: int | None = None
    ) -> list[OpenInterest]:
        """Open-interest history, oldest first (Binance keeps 30 days)."""
        step = _period(period)
        _check_range(since, limit)

        async def op(ex: Any) -> list[OpenInterest]:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_open_interest_history(market["symbol"], period, since, limit)
            now = _now_ms()
            what = f"fetch_open_interest_history({market['symbol']}, {period})"
            return _genuinely_empty(
                check.open_interest_history(
                    raw,
                    market["symbol"],
                    period,
                    required=check.rows_required(since, step, now, check.DATA_RETENTION_MS),
                    now_ms=now,
                    what=what,
                ),
                what,
            )

        return await self._run("oi", _Call("fetch_open_interest_history", symbol), op)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """The current funding rate, mark price and next funding time (premium index)."""

        async def op(ex: Any) -> FundingRate:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_funding_rate(market["symbol"])
            return check.funding_rate(
                raw,
                market["symbol"],
                now_ms=_now_ms(),
                what=f"fetch_funding_rate({market['symbol']})",
            )

        return await self._run("funding", _Call("fetch_funding_rate", symbol), op)

    async def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRate]:
        """Past funding rates, oldest first."""
        _check_range(since, limit)

        async def op(ex: Any) -> list[FundingRate]:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_funding_rate_history(market["symbol"], since, limit)
            now = _now_ms()
            what = f"fetch_funding_rate_history({market['symbol']})"
            return _genuinely_empty(
                check.funding_rate_history(
                    raw,
                    market["symbol"],
                    required=check.rows_required(since, check.FUNDING_PERIOD_MS, now),
                    now_ms=now,
                    what=what,
                ),
                what,
            )

        return await self._run("funding", _Call("fetch_funding_rate_history", symbol), op)

    async def fetch_trader_ratio(
        self,
        symbol: str,
        period: str = "5m",
        kind: str = "global_account",
        since: int | None = None,
        limit: int | None = None,
    ) -> list[TraderRatio]:
        """Long/short ratios, oldest first: ``kind`` "global_account" (all accounts),
        "top_account" or "top_position" (top traders, by accounts or by positions)."""
        if kind not in TRADER_RATIO_KINDS:
            raise ccxt.BadRequest(
                f"kind must be one of {', '.join(TRADER_RATIO_KINDS)}, not {kind!r}"
            )
        step = _period(period)
        _check_range(since, limit)

        async def op(ex: Any) -> list[TraderRatio]:
            market = await self._market(ex, symbol)
            if kind == "global_account":
                raw = await ex.fetch_long_short_ratio_history(
                    market["symbol"], period, since, limit
                )
            else:
                request: dict[str, Any] = {"symbol": market["id"], "period": period}
                if since is not None:
                    request["startTime"] = since
                if limit is not None:
                    request["limit"] = limit
                if kind == "top_account":
                    raw = await ex.fapiDataGetTopLongShortAccountRatio(request)
                else:
                    raw = await ex.fapiDataGetTopLongShortPositionRatio(request)
            now = _now_ms()
            what = f"fetch_trader_ratio({market['symbol']}, {kind}, {period})"
            return _genuinely_empty(
                check.trader_ratios(
                    raw,
                    market["symbol"],
                    market["id"],
                    kind,
                    period,
                    unified=kind == "global_account",
                    required=check.rows_required(since, step, now, check.DATA_RETENTION_MS),
                    now_ms=now,
                    what=what,
                ),
                what,
            )

        return await self._run("trader_ratio", _Call("fetch_trader_ratio", symbol), op)

    async def fetch_liquidations(self, symbol: str) -> list[Liquidation]:
        """Not available over REST: raises `LiquidationsNotSupported` (no request is made)."""
        raise LiquidationsNotSupported(
            "binanceusdm has no public REST endpoint for market-wide liquidations (the old "
            "allForceOrders is gone): subscribe to the '!forceOrder@arr' (or "
            "'<symbol>@forceOrder') websocket stream, e.g. with ccxt.pro's "
            f"watch_liquidations({symbol!r}); fetch_my_liquidations() gives the account's own"
        )

    async def fetch_my_liquidations(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[Liquidation]:
        """The account's own liquidations (signed: needs the API key and secret), oldest first."""
        _check_range(since, limit)

        async def op(ex: Any) -> list[Liquidation]:
            market = await self._market(ex, symbol)
            raw = await ex.fetch_my_liquidations(market["symbol"], since, limit)
            what = f"fetch_my_liquidations({market['symbol']})"
            return _genuinely_empty(_liquidations(raw, market["symbol"], what), what)

        return await self._run("liquidations", _Call("fetch_my_liquidations", symbol), op)


def _unified(symbol: str) -> str:
    """ "SOL/USDT" -> "SOL/USDT:USDT" (the linear perpetual); "SOL/USDT:USDT" unchanged."""
    if not isinstance(symbol, str) or symbol.count("/") != 1:
        raise ccxt.BadSymbol(f"binanceusdm: {symbol!r} is not a symbol like 'SOL/USDT'")
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if not base or not quote:
        raise ccxt.BadSymbol(f"binanceusdm: {symbol!r} is not a symbol like 'SOL/USDT'")
    return f"{base}/{quote}:{settle or quote}"


def _period(period: str) -> int:
    try:
        return check.period_ms(period)
    except ValueError as exc:
        raise ccxt.BadRequest(f"binanceusdm: {exc}") from None


def _check_range(since: int | None, limit: int | None) -> None:
    if since is not None and (type(since) is not int or since < 0):
        raise ccxt.BadRequest(
            f"since must be milliseconds since the epoch (int >= 0), not {since!r}"
        )
    if limit is not None and (type(limit) is not int or limit < 1):
        raise ccxt.BadRequest(f"limit must be an int >= 1, not {limit!r}")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _liquidations(raw: Any, symbol: str, what: str) -> list[Liquidation]:
    if not isinstance(raw, list):
        raise BadResponse(f"bad response from {what}: expected a list, got {type(raw).__name__}")
    out: list[Liquidation] = []
    now = _now_ms()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("symbol") != symbol:
            raise BadResponse(f"bad response from {what}: row {i} is not a liquidation of {symbol}")
        ts = check._ts(item.get("timestamp"), now)
        price = check._number(item.get("price"))
        contracts = check._number(item.get("contracts"))
        if ts is None or price is None or price <= 0 or contracts is None or contracts < 0:
            raise BadResponse(f"bad response from {what}: row {i}: missing or bad fields")
        out.append(Liquidation(symbol, ts, price, contracts, check._number(item.get("quoteValue"))))
    out.sort(key=lambda r: r.ts)
    return out
