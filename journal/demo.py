"""``journal demo``: a simulated collector session journaled, then replayed live and as of the past."""

from __future__ import annotations

import argparse
import random
from typing import Any

from journal.config import redact_url, resolve_db_url
from journal.events import (
    Event,
    breaker_event,
    calls_event,
    error_event,
    iso,
    now_us,
    retry_event,
)

ENDPOINTS = [
    "binance_ohlcv",
    "binance_oi",
    "binance_funding",
    "binance_liquidations",
    "binance_trader_ratio",
]
S = 1_000_000


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "demo", parents=[common], help="journal a simulated collector session and show it"
    )
    p.add_argument("--minutes", type=int, default=30, help="simulated session length (default 30)")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(handler=cmd_demo)


def simulate(minutes: int, seed: int, end_us: int) -> list[Event]:
    """A session in event time: calls every 5 s per endpoint, funding has an outage in the middle."""
    rng = random.Random(seed)
    start = end_us - minutes * 60 * S
    out: list[Event] = []
    state = dict.fromkeys(ENDPOINTS, "CLOSED")
    tallies = {n: [0, 0, 0] for n in ENDPOINTS}
    outage = (start + minutes * 20 * S, start + minutes * 32 * S)  # 1/3 .. ~1/2 of the session
    fails = dict.fromkeys(ENDPOINTS, 0)
    opened_at: dict[str, int] = {}
    for tick in range(minutes * 12):
        ts = start + tick * 5 * S
        for name in ENDPOINTS:
            if state[name] == "OPEN":
                if ts - opened_at[name] >= 120 * S:
                    out.append(
                        breaker_event(
                            name, "OPEN", "HALF_OPEN", ts=ts, message="recovery timeout passed"
                        )
                    )
                    state[name] = "HALF_OPEN"
                else:
                    tallies[name][2] += 1
                    continue
            down = name == "binance_funding" and outage[0] <= ts < outage[1]
            failed = down or rng.random() < 0.01
            if failed:
                tallies[name][1] += 1
                fails[name] += 1
                kind = (
                    "api_funding_error"
                    if name == "binance_funding"
                    else f"api_{name.split('_', 1)[1]}_error"
                )
                out.append(
                    error_event(
                        kind,
                        "ConnectionError: failed to connect to Binance API",
                        name=name,
                        context={"symbol": "SOL/USDT", "function": f"fetch_{name}"},
                        ts=ts + 1,
                    )
                )
                for attempt in (1, 2):
                    out.append(
                        retry_event(
                            name,
                            attempt,
                            2.0**attempt,
                            error_type="ConnectionError",
                            ts=ts + 2 + attempt,
                        )
                    )
                if state[name] == "HALF_OPEN" or fails[name] >= 10:
                    out.append(
                        calls_event(
                            name,
                            successes=tallies[name][0],
                            failures=tallies[name][1],
                            rejected=tallies[name][2],
                            ts=ts + 5,
                        )
                    )
                    tallies[name] = [0, 0, 0]
                    out.append(
                        breaker_event(
                            name,
                            state[name],
                            "OPEN",
                            ts=ts + 5,
                            message="failure threshold reached",
                        )
                    )
                    state[name] = "OPEN"
                    opened_at[name] = ts
                    fails[name] = 0
            else:
                tallies[name][0] += 1
                fails[name] = 0
                if state[name] == "HALF_OPEN":
                    out.append(
                        calls_event(
                            name,
                            successes=tallies[name][0],
                            failures=tallies[name][1],
                            rejected=tallies[name][2],
                            ts=ts + 5,
                        )
                    )
                    tallies[name] = [0, 0, 0]
                    out.append(
                        breaker_event(
                            name, "HALF_OPEN", "CLOSED", ts=ts + 5, message="trial calls succeeded"
                        )
                    )
                    state[name] = "CLOSED"
        if tick % 12 == 11:
            for name in ENDPOINTS:
                s_, f_, r_ = tallies[name]
                if s_ or f_ or r_:
                    out.append(calls_event(name, successes=s_, failures=f_, rejected=r_, ts=ts + 6))
                tallies[name] = [0, 0, 0]
    return sorted(out, key=lambda e: e.ts)


def cmd_demo(args: argparse.Namespace) -> int:
    """Journal the session into the database, then replay it now and as of the outage."""
    from rich.console import Console

    from journal.dashboard import render
    from journal.errors import ConfigError
    from journal.migrate import upgrade
    from journal.replay import replay, replay_snapshot
    from journal.store import EventStore

    if not 5 <= args.minutes <= 24 * 60:
        raise ConfigError("--minutes must be between 5 and 1440")
    url = resolve_db_url(args.db)
    console = Console()
    upgrade(url)
    end = now_us()
    events = simulate(args.minutes, args.seed, end)
    with EventStore(url) as store:
        written = sum(store.append(events[i : i + 500]) for i in range(0, len(events), 500))
        console.print(
            f"[bold]journal demo[/]: {written} events of a {args.minutes}-minute simulated collector "
            f"session written to {redact_url(url)}"
        )
        first = events[0].ts
        state = replay(store, since=first)
        snap = state.snapshot(end)
        console.print(render(snap, title="LIVE (replayed from the journal)"))
        mid = first + (end - first) * 4 // 10
        console.print(
            render(replay_snapshot(store, mid), title=f"AS OF {iso(mid)[:19]} (during the outage)")
        )
    console.print("Try: journal status --at 15m   |   journal info   |   journal migrate --status")
    return 0
