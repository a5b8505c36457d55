"""``journal collect``: the collection loop from the command line.

Bad input (unknown symbol, bad timeframe, bad ``--every``, unreachable ``--exchange-url``)
is refused before the loop starts: one line on stderr, exit code 2. Inside the running loop
the same faults become journaled errors and the loop goes on. Ctrl-C or SIGTERM stops the
tasks, flushes the market writer and the journal, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from journal.errors import ConfigError

EXAMPLES = """\
examples:
  journal collect --symbols BTC/USDT,SOL/USDT --timeframe 1m --every 60s
  journal collect --symbols SOL/USDT:USDT --timeframe 5m --every 5m --db postgresql://me@db/journal
  journal collect --symbols BTC/USDT --exchange-url http://127.0.0.1:8080 --duration 120

Credentials (only needed for signed endpoints; market data needs none) come from the
environment, never from flags: BINANCE_API_KEY and BINANCE_API_SECRET.
"""

_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$")
STARTUP_TIMEOUT_S = 15.0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "collect",
        parents=[common],
        help="collect Binance USD-M market data through the hardened client",
        description="Fetch candles, open interest, funding rates and long/short ratios for each "
        "symbol every --every, through per-endpoint circuit breakers and retries; every error, "
        "retry and breaker transition is journaled, the data goes to tables of its own.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--symbols",
        required=True,
        help="comma-separated, as SOL/USDT or in ccxt's unified form SOL/USDT:USDT",
    )
    p.add_argument("--timeframe", default="1m", help="candle timeframe (default 1m)")
    p.add_argument(
        "--every", default="60s", help="seconds between fetches: 60, 60s, 5m (default 60s)"
    )
    p.add_argument(
        "--exchange-url",
        default=None,
        metavar="URL",
        help="send every request to this base URL (a local fake or a proxy) instead of Binance",
    )
    p.add_argument(
        "--endpoints",
        default="ohlcv,oi,funding,trader_ratio",
        help="which to collect (default: ohlcv,oi,funding,trader_ratio)",
    )
    p.add_argument("--backfill", type=int, default=60, help="candles fetched on start (default 60)")
    p.add_argument(
        "--duration",
        default=None,
        help="stop after this long (e.g. 120s, 1h); default: until Ctrl-C or SIGTERM",
    )
    p.add_argument("--testnet", action="store_true", help="use Binance's testnet (sandbox mode)")
    p.set_defaults(handler=cmd_collect)


def parse_symbols(text: str) -> list[str]:
    """``BTC/USDT,SOL/USDT:USDT`` -> the list, upper-cased, without duplicates."""
    out: list[str] = []
    for raw in text.split(","):
        s = raw.strip().upper()
        if not s:
            continue
        if not _SYMBOL.match(s):
            raise ConfigError(f"bad symbol {raw.strip()!r}: write it as SOL/USDT or SOL/USDT:USDT")
        if s not in out:
            out.append(s)
    if not out:
        raise ConfigError("--symbols is empty: e.g. --symbols BTC/USDT,SOL/USDT")
    return out


def check_timeframe(timeframe: str) -> str:
    """The timeframe if Binance USD-M has it, else ConfigError listing the ones it has."""
    import ccxt

    known = list(ccxt.binanceusdm.timeframes if hasattr(ccxt.binanceusdm, "timeframes") else [])
    if not known:
        known = list(ccxt.binanceusdm().describe()["timeframes"])
    if timeframe not in known:
        raise ConfigError(f"bad --timeframe {timeframe!r}: Binance USD-M has {', '.join(known)}")
    return timeframe


def cmd_collect(args: argparse.Namespace) -> int:
    from journal.settings import resolve_db_url
    from journal.timeparse import parse_duration

    every = parse_duration(args.every, option="--every")
    duration = (
        None
        if args.duration is None
        else parse_duration(args.duration, option="--duration", maximum=366 * 86_400)
    )
    symbols = parse_symbols(args.symbols)
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    from .collect import ENDPOINTS

    bad = [e for e in endpoints if e not in ENDPOINTS]
    if bad or not endpoints:
        raise ConfigError(f"bad --endpoints {args.endpoints!r}: choose from {','.join(ENDPOINTS)}")
    if not 1 <= args.backfill <= 10_000:
        raise ConfigError("--backfill must be between 1 and 10000 candles")
    timeframe = check_timeframe(args.timeframe)
    url = resolve_db_url(args.db)
    return asyncio.run(
        collect(
            url,
            symbols,
            timeframe,
            every,
            exchange_url=args.exchange_url,
            endpoints=endpoints,
            backfill=args.backfill,
            duration=duration,
            testnet=args.testnet,
        )
    )


async def collect(
    url: str,
    symbols: Sequence[str],
    timeframe: str,
    every: float,
    *,
    exchange_url: str | None = None,
    endpoints: Sequence[str] | None = None,
    backfill: int = 60,
    duration: float | None = None,
    testnet: bool = False,
    client_options: dict[str, Any] | None = None,
    show_status: bool = True,
    source: str | None = None,
    stop: asyncio.Event | None = None,
    quiet: bool = False,
) -> int:
    """Run the loop until SIGINT/SIGTERM, ``duration`` or ``stop``; flush everything; return 0.

    ``quiet``: no summary line on stderr (a monitor owns the terminal)."""
    import journal

    from .binance import HardenedBinanceFuturesClient
    from .collect import ENDPOINTS, Collector
    from .storage import MarketWriter

    unified = await startup_check(symbols, exchange_url, testnet)
    journal.configure(url, source=source or f"collector:{os.uname().nodename}:{os.getpid()}")
    client = HardenedBinanceFuturesClient(
        api_key=os.environ.get("BINANCE_API_KEY") or None,
        api_secret=os.environ.get("BINANCE_API_SECRET") or None,
        testnet=testnet,
        exchange_url=exchange_url,
        **(client_options or {}),
    )
    writer = MarketWriter(url)
    try:
        async with client:
            collector = Collector(
                client,
                unified,
                timeframe,
                every,
                writer.submit_many,
                endpoints=endpoints or ENDPOINTS,
                backfill=backfill,
            )
            stop = stop or asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, stop.set)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass  # not the main thread: the caller stops us through `duration`
            if duration is not None:
                loop.call_later(duration, stop.set)
            display = asyncio.create_task(_show_status(collector, client, stop, show_status))
            try:
                await collector.run(stop)
            finally:
                stop.set()
                await display
                for sig in (signal.SIGINT, signal.SIGTERM):
                    try:
                        loop.remove_signal_handler(sig)
                    except (NotImplementedError, RuntimeError, ValueError):
                        pass
    finally:
        flushed = writer.flush(30)
        writer.close()
        journal.flush(30)
    if not flushed and not quiet:
        print(
            f"market writer: not everything is stored yet ({writer.last_flush_problem}); the rest "
            f"is kept in {writer.spool_dir} and stored by the next run",
            file=sys.stderr,
        )
    stats = collector.stats
    if quiet:
        return 0
    print(
        f"collected {stats.records} record(s) in {stats.turns} fetch(es) for "
        f"{len(unified)} symbol(s); {stats.failures} failed, {stats.gaps} gap(s); "
        f"market rows: {_writer_line(writer)}",
        file=sys.stderr,
    )
    return 0


async def startup_check(
    symbols: Sequence[str], exchange_url: str | None, testnet: bool = False
) -> list[str]:
    """Load the markets once, quickly, and resolve each symbol to ccxt's unified form.

    ConfigError (one line, exit 2) for a bad or unreachable URL and for an unknown symbol:
    bad input is refused before the loop starts, not journaled forever after.
    """
    from .exchange import make_exchange

    where = exchange_url or "Binance USD-M"
    try:
        ex = make_exchange(
            base_url=exchange_url,
            testnet=testnet,
            timeout_ms=int(STARTUP_TIMEOUT_S * 1000),
            enable_rate_limit=False,
        )
    except ValueError as exc:
        raise ConfigError(f"bad --exchange-url: {exc}") from None
    try:
        markets = await asyncio.wait_for(ex.load_markets(), STARTUP_TIMEOUT_S + 1)
    except asyncio.TimeoutError:
        raise ConfigError(
            f"cannot reach the exchange at {where}: no answer in {STARTUP_TIMEOUT_S:g} s"
        ) from None
    except Exception as exc:
        raise ConfigError(f"cannot reach the exchange at {where}: {_brief(exc)}") from None
    finally:
        await ex.close()
    if not isinstance(markets, dict) or not markets:
        raise ConfigError(
            f"the exchange at {where} lists no markets (exchangeInfo came back empty)"
        )
    out = []
    for s in symbols:
        unified = s if ":" in s else f"{s}:{s.split('/')[1]}"
        if unified not in markets:
            raise ConfigError(f"unknown symbol {s!r}: the exchange at {where} does not list it")
        out.append(unified)
    return out


def _brief(exc: BaseException) -> str:
    from journal.sanitizing.redaction import redact_text
    from journal.sanitizing.safetext import safe_str

    text = " ".join(safe_str(exc).split())[:200]
    return redact_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _writer_line(writer: Any) -> str:
    """``stored 240, unchanged 12, spooled 0, ...``: the market writer's non-zero counts."""
    import dataclasses

    try:
        stats = dataclasses.asdict(writer.stats())
    except Exception as exc:  # the summary line must not fail the exit
        return f"unknown ({type(exc).__name__})"
    shown = {k: v for k, v in stats.items() if type(v) is int and (v or k == "stored")}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def status_text(collector: Any, client: Any, now: float | None = None) -> str:
    """One line: the last fetch of each endpoint (over all symbols) and every breaker's state."""
    now = time.time() if now is None else now
    parts = []
    for endpoint in collector.endpoints:
        rows = [st for (s, e), st in collector.stats.status.items() if e == endpoint]
        oks = [st.last_ok for st in rows if st.last_ok is not None]
        failing = sum(1 for st in rows if st.last_error)
        age = f"{now - max(oks):.0f}s ago" if oks else "never"
        parts.append(f"{endpoint} {age}" + (f" ({failing} failing)" if failing else ""))
    breakers = []
    for name, b in sorted(client.breakers.items()):
        state = getattr(b, "state", "?")
        breakers.append(f"{name.removeprefix('binance_')}={state}")
    return "last fetch: " + ", ".join(parts) + " | breakers: " + " ".join(breakers)


async def _show_status(collector: Any, client: Any, stop: asyncio.Event, show: bool) -> None:
    """A Rich live line on a terminal's stderr; a plain line a minute when piped."""
    if not show:
        await stop.wait()
        return
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console(stderr=True)
    if console.is_terminal:
        with Live(Text(""), console=console, refresh_per_second=2, transient=True) as live:
            while not stop.is_set():
                live.update(Text(status_text(collector, client)))
                try:
                    await asyncio.wait_for(stop.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass
        return
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 60)
        except asyncio.TimeoutError:
            print(
                time.strftime("%H:%M:%S ") + status_text(collector, client),
                file=sys.stderr,
                flush=True,
            )
