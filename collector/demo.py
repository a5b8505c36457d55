"""The live demo: the fake exchange with its "demo" chaos profile, the collector against it
through the real ccxt client, in real time; then what the journal and the market tables hold.

Breaker recovery is shortened to 10 s (and retries to a fraction of a second) so that within
30 s the open-interest breaker opens during the fake's outage window and closes again after
it. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from typing import Any

DEMO_SYMBOLS = ("BTC/USDT", "SOL/USDT")
DEMO_EVERY_S = 2.0
DEMO_RECOVERY_S = 10.0
# the fake's open-interest outage: from 4 s to 14 s after start, again every 60 s; with the
# breaker counting each failed attempt it opens within a few seconds, half-opens at ~15-18 s
# and its trial succeeds: opened and closed again well inside 25 s.
DEMO_OUTAGE = (4.0, 14.0, 60.0)
DEMO_CLIENT_OPTIONS: dict[str, Any] = {
    "recovery_timeout": DEMO_RECOVERY_S,
    "max_retries": 3,
    "initial_delay": 0.2,
    "max_delay": 1.0,
    "timeout_ms": 2_000,
    "enable_rate_limit": False,
}


def run_live_demo(url: str, duration: float, *, monitor: bool = False) -> None:
    """Collect live into ``url``, then print the dashboard.

    ``monitor``: the Textual monitor runs in the foreground over the same journal while the
    collector runs in a thread of its own (its own event loop); quitting the monitor (``q``)
    stops the collector, which flushes. Without it: ``duration`` seconds, then the dashboard.
    """
    if not monitor:
        asyncio.run(_live(url, duration))
        return
    import importlib
    import logging
    import threading

    from journal.store.migrate import upgrade

    upgrade(url)  # the monitor checks the schema before it starts
    # alerts are logged as well as shown by the monitor: keep them off the terminal it owns
    logging.getLogger("journal").addHandler(logging.NullHandler())
    logging.getLogger("journal").propagate = False
    ready = threading.Event()
    box: dict[str, Any] = {}

    def collect_in_thread() -> None:
        async def main() -> None:
            box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await _live(url, duration, stop=box["stop"], quiet=True)

        try:
            asyncio.run(main())
        except BaseException as exc:  # shown after the monitor closes
            box["error"] = exc
            ready.set()

    worker = threading.Thread(target=collect_in_thread, name="demo-collector", daemon=True)
    worker.start()
    ready.wait(30)
    try:
        importlib.import_module("journal.tui.cli_monitor").run_monitor(url)
    finally:
        loop, stop = box.get("loop"), box.get("stop")
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        worker.join(60)
    if "error" in box:
        raise box["error"]


async def _live(
    url: str, duration: float, *, stop: asyncio.Event | None = None, quiet: bool = False
) -> None:
    from rich.console import Console

    from journal.events import now_us
    from journal.settings import redact_url

    from .cli_collect import collect
    from .fake_exchange import FakeBinance

    console = Console()
    start = now_us()
    async with FakeBinance(profile="demo") as fake:
        fake.set_profile("demo", outage=DEMO_OUTAGE)
        if quiet:
            await collect(
                url,
                list(DEMO_SYMBOLS),
                "1m",
                DEMO_EVERY_S,
                exchange_url=fake.base_url,
                client_options=DEMO_CLIENT_OPTIONS,
                source="demo-collector",
                show_status=False,
                stop=stop,
                quiet=True,
            )
            return
        console.print(
            f"[bold]journal demo[/]: a fake Binance USD-M on {fake.base_url} (chaos profile "
            f"'demo': rate limits, bad bodies, an open-interest outage); the real ccxt client "
            f"collects {', '.join(DEMO_SYMBOLS)} every {DEMO_EVERY_S:g} s for {duration:g} s into "
            f"{redact_url(url)}. Breaker recovery shortened to {DEMO_RECOVERY_S:g} s "
            f"(the collector's default is 120 s).",
            soft_wrap=True,
        )
        await collect(
            url,
            list(DEMO_SYMBOLS),
            "1m",
            DEMO_EVERY_S,
            exchange_url=fake.base_url,
            duration=duration,
            client_options=DEMO_CLIENT_OPTIONS,
            source="demo-collector",
        )
    show_outcome(url, start, console)


def show_outcome(url: str, start_us: int, console: Any) -> None:
    """The dashboard replayed from the journal, the breaker story and the stored market rows."""
    from journal.dashboard import render
    from journal.events import iso, now_us
    from journal.history.replay import replay
    from journal.store.event_store import EventStore

    from .storage import MarketStore

    with EventStore(url) as store:
        written = store.count(since=start_us)
        snap = replay(store, since=start_us).snapshot(now_us())
        console.print(render(snap, title="LIVE DEMO (replayed from the journal)"))
        story = [
            f"{iso(e.ts)[11:19]} {e.name} {e.state_from} -> {e.state_to}"
            for e in store.read(since=start_us, kinds=["breaker"])
        ]
    console.print(
        f"{written} events journaled; breaker transitions: " + ("; ".join(story) or "none")
    )
    market = MarketStore(url)
    try:
        counts = {
            t: market.count(t)
            for t in ("candles", "open_interest", "funding_rates", "trader_ratios")
        }
    finally:
        market.close()
    console.print("market rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
