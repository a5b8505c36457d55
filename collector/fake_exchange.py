"""A local, fault-injecting fake of the Binance USD-M REST API, for driving the real ccxt client.

``FakeBinance`` is an aiohttp server that runs in the caller's event loop (no threads) on
127.0.0.1. It serves the public market-data endpoints the collector uses with deterministic,
plausible data (a pure function of symbol and time: the same candle always has the same numbers),
and injects faults on demand, on a time schedule, or from a named profile::

    async with FakeBinance() as fake:
        ex = make_exchange(base_url=fake.base_url, enable_rate_limit=False, timeout_ms=500)
        fake.inject("/fapi/v1/klines", "http429", times=2, arg=3)
        ...

What each fault kind does, and what ccxt 4.5.90 raises for it (client built by
``journal.collector.exchange.make_exchange``; see tests/test_fake_exchange.py):

======================  ====================================================  ======================
kind                    response                                              ccxt raises
======================  ====================================================  ======================
http429                 429, ``Retry-After: arg`` (7), ``{"code":-1003}``     DDoSProtection
http418                 418, ``Retry-After: arg`` (120), ``{"code":-1003}``   DDoSProtection
http500/502/503         that status, HTML page                                ExchangeNotAvailable
http504                 504, HTML page                                        RequestTimeout
err-1003                400 ``{"code":-1003}`` (the in-body shape)            RateLimitExceeded
err-1021                400 ``{"code":-1021}`` (timestamp outside recvWindow)  InvalidNonce
err-1000                500 ``{"code":-1000}`` (unknown error)                OperationFailed
err-1001                503 ``{"code":-1001}`` (internal disconnect)          OperationFailed
err-1008                503 ``{"code":-1008}`` (server overloaded)            OperationFailed
stall                   sleeps ``arg`` s (30) before the headers              RequestTimeout
stall-body              headers, then sleeps ``arg`` s (30) before the body   RequestTimeout
reset                   TCP RST (SO_LINGER 0) without a response              ExchangeNotAvailable*
close                   closes the connection without a response              ExchangeNotAvailable*
malformed               200 application/json, the real body truncated         nothing: garbage result
html200                 200 text/html page                                    nothing: garbage result
empty-body              200 application/json, no bytes                        nothing: empty result
empty-array/-object     200 ``[]`` / ``{}``                                   nothing: empty result
null                    200 ``null``                                          nothing: empty result
======================  ====================================================  ======================

\\* aiohttp transparently retries an idempotent GET once when the connection drops before a
response, so a single ``reset`` or ``close`` never surfaces (the fake records two requests).
Inject it with ``times=2`` or more (or ``None``) to see the exception.

Real Binance sends -1003 with a 429 or 418 status, which ccxt maps by status before the code;
``err-1003`` is the 400-with-code shape ccxt maps by code. -1008 maps to ``OperationFailed`` only
through the ``get_exceptions_by_url`` seam in ``make_exchange`` (production's linear table).

Faults are chosen per request in this order: injected (``inject``; the path's own, then ``"*"``),
time windows (``add_window``), then the profile (``set_profile``). Windows and the profile use
the fake's ``clock`` relative to ``start()``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple

from aiohttp import web

from .fake_market import DATA_PERIODS, KLINE_INTERVALS, ApiError, FakeMarket

__all__ = [
    "DATA_PERIODS",
    "DEMO_WINDOWS",
    "FAULT_KINDS",
    "KLINE_INTERVALS",
    "PROFILES",
    "FakeBinance",
    "RecordedRequest",
    "Window",
]

FAULT_KINDS: tuple[str, ...] = (
    "http429",
    "http418",
    "http500",
    "http502",
    "http503",
    "http504",
    "err-1003",
    "err-1021",
    "err-1000",
    "err-1001",
    "err-1008",
    "stall",
    "stall-body",
    "reset",
    "close",
    "malformed",
    "html200",
    "empty-body",
    "empty-array",
    "empty-object",
    "null",
)

PROFILES: dict[str, str] = {
    "calm": "no faults",
    "chaos": "seeded random faults of every kind on every endpoint (rate 0.2, stalls 1.5 s)",
    "demo": (
        "occasional 429s (Retry-After 1) and malformed bodies on every endpoint but open interest "
        "(rate 0.05), and /fapi/v1/openInterest answers 503 HTML for seconds 8-22 of every minute "
        "after start, and nothing else, so its breaker's recovery is never a matter of luck"
    ),
}

# status, body for the JSON error kinds
_ERROR_BODIES: dict[str, tuple[int, int, str]] = {
    "err-1003": (
        400,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.",
    ),
    "err-1021": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "err-1000": (500, -1000, "An unknown error occured while processing the request."),
    "err-1001": (503, -1001, "Internal error; unable to process your request. Please try again."),
    "err-1008": (
        503,
        -1008,
        "Server is currently overloaded with other requests. Please try again in a few minutes.",
    ),
}
_HTML_STATUS = {"http500": 500, "http502": 502, "http503": 503, "http504": 504}
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class RecordedRequest(NamedTuple):
    """One request the fake received, and the fault it got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float  # the fake's clock, seconds
    fault: str | None = None  # the fault kind this request got, if any


@dataclass(slots=True)
class _Injection:
    path: str
    kind: str
    remaining: int | None  # None = until cleared
    arg: float | int | str | None


@dataclass(frozen=True, slots=True)
class Window:
    """A fault that fires on ``path`` while ``start_s <= t < end_s`` (t = seconds since start)."""

    path: str
    kind: str
    start_s: float
    end_s: float
    every_s: float | None = None  # repeat period; None = once
    arg: float | int | str | None = None

    def active(self, elapsed_s: float) -> bool:
        t = elapsed_s % self.every_s if self.every_s else elapsed_s
        return self.start_s <= t < self.end_s


# The demo's hard outage (14 s of 503 HTML each minute). Polled every ~2 s, that is 7 polls; a
# breaker with threshold 10 opens inside it when it counts attempts (3 per poll: opens about
# second 14), its trial at ~24 s finds the endpoint back, and it closes about second 26. A breaker
# that counts whole calls needs a longer outage: set_profile("demo", outage=(8, 32, 60)).
DEMO_WINDOWS: tuple[Window, ...] = (Window("/fapi/v1/openInterest", "http503", 8.0, 22.0, 60.0),)


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")


# ---------------------------------------------------------------------------------------------
# Deterministic market data: a pure function of (symbol, time)


# ---------------------------------------------------------------------------------------------
# The server


class FakeBinance:
    """The fake exchange: ``async with FakeBinance() as fake: ... fake.base_url``."""

    def __init__(
        self,
        symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"),
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        profile: str | None = None,
    ) -> None:
        self.market = FakeMarket(symbols)
        self.seed = seed
        self.clock = clock
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self.started_at: float | None = None
        self.cancelled_handlers = 0  # handlers cancelled mid-stall (client gone or shutdown)
        self.stalls_finished = 0  # stalls that slept their full time
        self._injections: list[_Injection] = []
        self._windows: list[Window] = []  # add_window()
        self._profile_windows: tuple[Window, ...] = ()  # set_profile(); clear_faults() keeps them
        self._profile = "calm"
        self._profile_rate = 0.0
        self._profile_kinds: tuple[str, ...] = ()
        self._profile_spared: frozenset[str] = frozenset()  # paths without random faults
        self._stall_s = 1.5
        self._rngs: dict[str, random.Random] = {}
        self._runner: web.AppRunner | None = None
        self.set_profile(profile or "calm")

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("FakeBinance already started")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(
            app, handle_signals=False, handler_cancellation=True, shutdown_timeout=0.25
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()
        self.base_url = f"http://{host}:{bound[1]}"
        self.started_at = self.clock()
        return self.base_url

    async def stop(self) -> None:
        """Stop listening; handlers still stalled are cancelled after a short grace period."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBinance:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- introspection -----------------------------------------------------------------------

    def count(self, path: str | None = None) -> int:
        """How many requests reached ``path`` (all paths with None or "*")."""
        if path in (None, "*"):
            return len(self.requests)
        return sum(1 for r in self.requests if r.path == path)

    def elapsed(self) -> float:
        """Seconds since ``start()`` on the fake's clock (0 before start)."""
        return 0.0 if self.started_at is None else self.clock() - self.started_at

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        path: str,
        kind: str,
        times: int | None = 1,
        arg: float | int | str | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` ("*" = any; None = until cleared) get ``kind``."""
        _check_kind(kind)
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        self._injections.append(_Injection(path, kind, times, arg))

    def clear_faults(self, path: str | None = None) -> None:
        """Drop injected faults and added windows for ``path`` (all with None); not the profile's."""
        if path is None:
            self._injections.clear()
            self._windows.clear()
        else:
            self._injections = [i for i in self._injections if i.path != path]
            self._windows = [w for w in self._windows if w.path != path]

    def add_window(
        self,
        path: str,
        kind: str,
        start_s: float,
        end_s: float,
        every_s: float | None = None,
        arg: float | int | str | None = None,
    ) -> Window:
        """Fault ``kind`` on ``path`` for seconds [start_s, end_s) after start, every ``every_s``."""
        _check_kind(kind)
        if not 0 <= start_s < end_s or (every_s is not None and every_s < end_s):
            raise ValueError(f"bad window [{start_s}, {end_s}) every {every_s}")
        window = Window(path, kind, start_s, end_s, every_s, arg)
        self._windows.append(window)
        return window

    @property
    def windows(self) -> tuple[Window, ...]:
        return (*self._windows, *self._profile_windows)

    @property
    def profile(self) -> str:
        return self._profile

    def set_profile(
        self,
        name: str,
        *,
        rate: float | None = None,
        stall_s: float | None = None,
        outage: tuple[float, float, float | None] | None = None,
    ) -> None:
        """Switch to profile ``name`` (see PROFILES).

        ``rate``: the chance a request gets a random fault ("chaos" 0.2, "demo" 0.05);
        ``stall_s``: how long "chaos" stalls last (keep it under the client's timeout if the test
        should not wait); ``outage``: the demo's (start_s, end_s, every_s) window on open interest.
        """
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        self._rngs.clear()
        self._profile = name
        self._profile_spared = frozenset()
        if name == "calm":
            self._profile_rate, self._profile_kinds = 0.0, ()
            self._profile_windows = ()
        elif name == "chaos":
            self._profile_rate, self._profile_kinds = 0.2, FAULT_KINDS
            self._profile_windows = ()
        else:
            self._profile_rate, self._profile_kinds = 0.05, ("http429", "malformed")
            self._profile_windows = DEMO_WINDOWS
            if outage is not None:
                self._profile_windows = (Window(DEMO_WINDOWS[0].path, "http503", *outage),)
            # the outage's endpoint has only its outage: a random 429 on the breaker's trial
            # call would reopen it, and a short demo would end before the next trial
            self._profile_spared = frozenset(w.path for w in self._profile_windows)
        if rate is not None:
            self._profile_rate = rate
        if stall_s is not None:
            self._stall_s = stall_s

    def _pick_fault(self, path: str) -> tuple[str, float | int | str | None] | None:
        for want in (path, "*"):
            for inj in self._injections:
                if inj.path == want:
                    if inj.remaining is not None:
                        inj.remaining -= 1
                        if inj.remaining == 0:
                            self._injections.remove(inj)
                    return inj.kind, inj.arg
        elapsed = self.elapsed()
        for w in self.windows:
            if w.path in (path, "*") and w.active(elapsed):
                return w.kind, w.arg
        if self._profile_rate > 0 and self._profile_kinds and path not in self._profile_spared:
            # One generator per path: the sequence a path sees depends only on the seed and how
            # many requests that path had, not on how requests to different paths interleave.
            rng = self._rngs.setdefault(path, random.Random(f"{self.seed}|{path}"))
            if rng.random() < self._profile_rate:
                kind = rng.choice(self._profile_kinds)
                if kind in ("stall", "stall-body"):
                    return kind, self._stall_s
                if kind in ("http429", "http418"):
                    return kind, 1
                return kind, None
        return None

    # -- request handling --------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        fault = self._pick_fault(request.path)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                query,
                dict(request.headers),
                self.clock(),
                None if fault is None else fault[0],
            )
        )
        if fault is None:
            return self._answer(request.path, query)
        kind, arg = fault
        return await self._fault(request, kind, arg)

    def _answer(self, path: str, query: dict[str, str]) -> web.Response:
        if path not in self.market.routes:
            return web.Response(
                status=404,
                text="<html><body><h2>404 Not found</h2></body></html>",
                content_type="text/html",
            )
        try:
            body = self.market.answer(path, query, int(self.clock() * 1000))
        except ApiError as err:
            return _json_error(err.status, err.code, err.msg)
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def _fault(
        self, request: web.Request, kind: str, arg: float | int | str | None
    ) -> web.StreamResponse:
        if kind in ("http429", "http418"):
            status = 429 if kind == "http429" else 418
            retry_after = str(arg if arg is not None else (7 if status == 429 else 120))
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."
                if status == 429
                else "Way too many requests; IP(127.0.0.1) banned. Please use the websocket."
            )
            resp = _json_error(status, -1003, msg)
            resp.headers["Retry-After"] = retry_after
            return resp
        if kind in _HTML_STATUS:
            status = _HTML_STATUS[kind]
            return web.Response(status=status, text=_html(status), content_type="text/html")
        if kind in _ERROR_BODIES:
            status, code, msg = _ERROR_BODIES[kind]
            return _json_error(status, code, msg)
        if kind == "stall":
            await self._stall(float(arg) if arg is not None else 30.0)
            return self._answer(request.path, dict(request.query))
        if kind == "stall-body":
            stream = web.StreamResponse(headers={"Content-Type": "application/json"})
            await stream.prepare(request)
            await self._stall(float(arg) if arg is not None else 30.0)
            await stream.write(_body_bytes(self._answer(request.path, dict(request.query))))
            await stream.write_eof()
            return stream
        if kind in ("reset", "close"):
            _drop(request, rst=kind == "reset")
            # aiohttp sends nothing on a closed transport; the response below is never written.
            return web.Response(status=500)
        return self._garbage(request, kind)

    async def _stall(self, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.cancelled_handlers += 1
            raise
        self.stalls_finished += 1

    def _garbage(self, request: web.Request, kind: str) -> web.Response:
        if kind == "malformed":
            text = _body_bytes(self._answer(request.path, dict(request.query))).decode()
            return web.Response(
                text=text[: max(1, len(text) // 2)], content_type="application/json"
            )
        if kind == "html200":
            return web.Response(
                text="<html><head><title>Binance</title></head><body>Welcome</body></html>",
                content_type="text/html",
            )
        bodies = {"empty-body": "", "empty-array": "[]", "empty-object": "{}", "null": "null"}
        return web.Response(text=bodies[kind], content_type="application/json")

    # -- endpoints (pure: query + now in ms -> JSON-able body, or ApiError) --------------------


def _body_bytes(response: web.Response) -> bytes:
    body = response.body
    return body if isinstance(body, bytes) else b"{}"


def _json_error(status: int, code: int, msg: str) -> web.Response:
    return web.Response(
        status=status, text=json.dumps({"code": code, "msg": msg}), content_type="application/json"
    )


def _html(status: int) -> str:
    reason = _REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )


def _drop(request: web.Request, *, rst: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    if rst:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


# ---------------------------------------------------------------------------------------------
# CLI: python -m journal.collector.fake_exchange --port 0 --profile demo


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m journal.collector.fake_exchange",
        description="Run the fault-injecting fake Binance USD-M exchange on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--profile", default="calm", choices=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=0, help="seeds the random faults")
    parser.add_argument("--rate", type=float, default=None, help="random fault rate (chaos, demo)")
    parser.add_argument(
        "--outage",
        type=_outage,
        default=None,
        metavar="START:END[:EVERY]",
        help="the demo's open-interest outage in seconds after start (default 8:22:60)",
    )
    parser.add_argument(
        "--symbols", default="BTCUSDT,ETHUSDT,SOLUSDT", help="comma-separated Binance ids"
    )
    return parser.parse_args(argv)


def _outage(text: str) -> tuple[float, float, float | None]:
    parts = [float(p) for p in text.split(":")]
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("expected START:END or START:END:EVERY (seconds)")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


async def _serve(args: argparse.Namespace, ready: Callable[[str], Awaitable[None] | None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    fake = FakeBinance(
        [s for s in args.symbols.split(",") if s], seed=args.seed, profile=args.profile
    )
    fake.set_profile(args.profile, rate=args.rate, outage=args.outage)
    await fake.start(args.host, args.port)
    try:
        result = ready(fake.base_url)
        if result is not None:
            await result
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; print the base URL as the first line of stdout."""
    args = _parse_args(argv)

    def ready(url: str) -> None:
        print(url, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())
