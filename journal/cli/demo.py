"""``journal demo``: the whole system, live, or a fast simulated session.

Live (the default): a fault-injecting fake Binance on 127.0.0.1, the real ccxt client
through the hardened collector against it, in real time, into the journal and the market
tables; breaker recovery is shortened to 10 s so a breaker opens and closes within 30 s. At
the end it prints the dashboard replayed from the journal (``journal.collector.demo``).

``--simulate`` keeps the fast session on a simulated clock (retries "sleep" by advancing it,
so 30 minutes of collection take a second or two), for generating long histories: five
Binance-like endpoints polled every 5 s; the funding endpoint goes down for a stretch, so its
breaker opens, half-opens and closes.
"""

from __future__ import annotations

import argparse
import random
from typing import Any

from journal.errors import ConfigError
from journal.events import iso, now_us
from journal.settings import redact_url, resolve_db_url

ENDPOINTS = [
    "binance_ohlcv",
    "binance_oi",
    "binance_funding",
    "binance_liquidations",
    "binance_trader_ratio",
]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="run the collector live against a local fake exchange (or --simulate) and show it",
        description="Live: a fake Binance USD-M on 127.0.0.1 with a chaos profile, the real ccxt "
        "client through the hardened collector, in real time, into ./journal.db (or --db). "
        "--simulate: a fast session on a simulated clock.",
        epilog="examples:\n  journal demo --headless --duration 25\n"
        "  journal demo --simulate --minutes 120 --db sqlite:///history.db",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--duration",
        default="30s",
        help="live, headless: how long to collect (default 30s; 10s to 1h); with the monitor, "
        "until you quit it (q)",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="live: no monitor, print the dashboard at the end (the default when not on a terminal)",
    )
    p.add_argument(
        "--simulate", action="store_true", help="a simulated-clock session instead of a live one"
    )
    p.add_argument(
        "--minutes", type=int, default=30, help="--simulate: session length (default 30)"
    )
    p.add_argument("--seed", type=int, default=42, help="--simulate: random seed")
    p.set_defaults(handler=cmd_demo)


class SimClock:
    """Simulated time: seconds since the epoch; sleeping advances it."""

    def __init__(self, start_s: float) -> None:
        self.t = start_s

    def monotonic(self) -> float:
        return self.t

    def wall_us(self) -> int:
        return int(self.t * 1_000_000)

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class ExchangeDown(ConnectionError):
    """The simulated exchange refused the request."""


def run_session(url: str, minutes: int, seed: int) -> tuple[int, int, list[str]]:
    """Collect for ``minutes`` of simulated time into the journal at ``url``.

    Returns (session start us, session end us, fired alert lines).
    """
    import journal
    from journal import events
    from journal.alerting.sinks import CallableSink
    from journal.errors import CircuitBreakerError, RetryError
    from journal.resilience.breaker import CircuitBreakerManager
    from journal.resilience.retry import retry_api_call

    rng = random.Random(seed)
    end = now_us()
    clock = SimClock((end - minutes * 60_000_000) / 1e6)
    start = clock.wall_us()
    outage = (
        start + minutes * 20_000_000,
        start + minutes * 30_000_000,
    )  # 1/3 to 1/2 of the session
    alerts: list[str] = []
    events.set_clock(clock.wall_us)
    try:
        journal.configure(url, source="demo-collector:1",
                          alert_sinks=[CallableSink(lambda a: alerts.append(f"[{a.severity}] {a.message}"), name="demo")])  # fmt: skip
        manager = (
            CircuitBreakerManager()
        )  # the seed's per-endpoint breakers, on the simulated clock
        fetchers = {}
        for name in ENDPOINTS:
            breaker = manager.get_breaker(
                name, failure_threshold=10, recovery_timeout=120, clock=clock.monotonic
            )

            def exchange(name: str = name) -> str:
                down = name == "binance_funding" and outage[0] <= clock.wall_us() < outage[1]
                if down or rng.random() < 0.004:
                    exc = ExchangeDown(f"Failed to connect to Binance API ({name})")
                    family = f"api_{name.split('_', 1)[1]}_error"
                    ctx = {"symbol": "SOL/USDT", "endpoint": name}
                    journal.record_error(family, exc, ctx, name=name)
                    raise exc
                return "ok"

            fetchers[name] = retry_api_call(max_retries=2, initial_delay=1.0, jitter=False, sleep=clock.sleep,
                                            name=f"fetch_{name}")(breaker(exchange))  # fmt: skip
        for tick in range(minutes * 12):
            clock.t = start / 1e6 + tick * 5
            for fetch in fetchers.values():
                try:
                    fetch()  # each failed attempt was recorded by the exchange client
                except (CircuitBreakerError, RetryError, ExchangeDown):
                    pass  # the collector serves cached data; the journal has the story
        manager.flush_tallies()
        journal.flush(30)
        journal.shutdown(30)
    finally:
        events.set_clock(None)
    return start, end, alerts


def cmd_demo(args: argparse.Namespace) -> int:
    """Live, or (``--simulate``) the simulated session; then the dashboard and working hints."""
    if not args.simulate:
        from journal.timeparse import parse_duration

        duration = parse_duration(args.duration, option="--duration", maximum=3600)
        if duration < 10:
            raise ConfigError(
                "--duration must be at least 10s (a breaker opens and closes in ~25 s)"
            )
        import importlib

        url = resolve_db_url(args.db)  # the collector lives in collector/ (journal.collector)
        import sys

        monitor = not args.headless and sys.stdin.isatty() and sys.stdout.isatty()
        demo = importlib.import_module("journal.collector.demo")
        demo.run_live_demo(url, duration, monitor=monitor)
        print_hints(args.db, url, live=True)
        return 0
    return cmd_simulate(args)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the session, then show the dashboard replayed from the journal, now and in the outage."""
    from rich.console import Console

    from journal.dashboard import render
    from journal.history.replay import replay, replay_snapshot
    from journal.store.event_store import EventStore

    if not 5 <= args.minutes <= 24 * 60:
        raise ConfigError("--minutes must be between 5 and 1440")
    url = resolve_db_url(args.db)
    console = Console()
    start, end, alerts = run_session(url, args.minutes, args.seed)
    with EventStore(url) as store:
        written = store.count(since=start)
        console.print(f"[bold]journal demo[/]: a {args.minutes}-minute simulated collector session, "
                      f"{written} events journaled to {redact_url(url)}")  # fmt: skip
        console.print(
            f"{len(alerts)} alert(s) fired: "
            + "; ".join(alerts[:4])
            + (" ..." if len(alerts) > 4 else "")
        )
        snap = replay(store, since=start).snapshot(end)
        console.print(render(snap, title="LIVE (replayed from the journal)"))
        mid = start + (end - start) * 4 // 10
        console.print(
            render(replay_snapshot(store, mid), title=f"AS OF {iso(mid)[:19]} (during the outage)")
        )
    print_hints(args.db, url)
    return 0


def print_hints(given_db: str | None, url: str, *, live: bool = False) -> None:
    """The closing hints: commands that work exactly as printed, from where the demo ran."""
    from rich.console import Console

    cmd = _command_as_typed()
    db = f" --db {redact_url(url)}" if given_db else ""
    first = f"{cmd} incidents{db}" if live else f"{cmd} status --at 15m{db}"
    Console().print(
        f"Try: {first}   |   {cmd} info{db}   |   {cmd} export -o events.json{db}",
        soft_wrap=True,
    )


def _command_as_typed() -> str:
    """How to run `journal` from here: the bare name when it is on PATH, else the venv's path."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("journal")
    found = shutil.which("journal")
    if found and Path(found).resolve() == script.resolve():
        return "journal"
    if script.exists():
        try:
            return str(script.relative_to(Path.cwd()))
        except ValueError:
            return str(script)
    return f"{sys.executable} -m journal"
