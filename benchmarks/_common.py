"""Shared helpers for the benchmark scripts: realistic events, timing, Markdown tables."""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from journal.events import Event, breaker_event, calls_event, error_event, retry_event

DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
NAMES = [
    f"binance_{n}" for n in ("ohlcv", "oi", "funding", "liquidations", "trader_ratio", "ticker")
] + [f"vendor_{i}" for i in range(6)]
TYPES = [f"api_{n.split('_', 1)[1]}_error" for n in NAMES]
SYMBOLS = ["SOL/USDT", "BTC/USDT", "ETH/USDT", "DOGE/USDT"]


def realistic_events(
    n: int, *, seed: int = 7, start_us: int = 1_795_000_000_000_000, span_s: float = 7 * 86400
) -> list[Event]:
    """``n`` events: 60% errors, 35% retries, 5% breaker transitions and call tallies; ~200-byte context."""
    rng = random.Random(seed)
    step = int(span_s * 1e6 / max(n, 1))
    out: list[Event] = []
    ts = start_us
    states = [
        ("CLOSED", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "CLOSED"),
        ("HALF_OPEN", "OPEN"),
    ]
    for i in range(n):
        ts += rng.randint(1, 2 * step)
        k = rng.random()
        j = rng.randrange(len(NAMES))
        name = NAMES[j]
        ctx = {
            "symbol": rng.choice(SYMBOLS),
            "function": f"fetch_{name.split('_', 1)[1]}",
            "timeframe": "5m",
            "attempt": rng.randint(1, 5),
            "request_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "url": f"https://fapi.example/fapi/v1/klines?symbol=SOLUSDT&interval=5m&limit={rng.randint(100, 1500)}",
        }
        if k < 0.60:
            out.append(
                error_event(
                    TYPES[j],
                    f"ConnectionError: failed to reach {name} after timeout #{i % 997}",
                    name=name,
                    severity="ERROR" if rng.random() < 0.9 else "WARNING",
                    context=ctx,
                    ts=ts,
                    source="collector-1:4242",
                )
            )
        elif k < 0.95:
            out.append(
                retry_event(
                    name,
                    rng.randint(1, 5),
                    rng.choice([1.0, 2.0, 4.0, 8.0]),
                    error_type="TimeoutError",
                    message=f"read timeout on {name} #{i % 997}",
                    context=ctx,
                    ts=ts,
                    source="collector-1:4242",
                )
            )
        elif k < 0.975:
            a, b = rng.choice(states)
            out.append(breaker_event(name, a, b, ts=ts, source="collector-1:4242"))
        else:
            out.append(
                calls_event(
                    name,
                    successes=rng.randint(50, 200),
                    failures=rng.randint(0, 5),
                    rejected=rng.randint(0, 3),
                    ts=ts,
                    source="collector-1:4242",
                )
            )
    return out


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM, which starts afresh at exec. (ru_maxrss does
    not: a child spawned by a benchmark that holds generated events inherits its peak.)"""
    with contextlib.suppress(OSError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(fn: Callable[[], Any]) -> float:
    """Seconds taken by ``fn()``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def med(xs: list[float]) -> float:
    """Median."""
    return statistics.median(xs)


def spread(xs: list[float]) -> float:
    """(max - min) / median."""
    m = statistics.median(xs)
    return (max(xs) - min(xs)) / m if m else 0.0


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def report(title: str, rates: dict[str, list[float]], baseline: str) -> str:
    """A titled Markdown table of events/s medians and ratios to ``baseline``."""
    base = med(rates[baseline])
    rows = [
        [name, f"{med(v):,.0f}", f"{1e6 / med(v):.2f}", f"{med(v) / base:.2f}x", f"{spread(v):.0%}"]
        for name, v in rates.items()
    ]
    return f"### {title}\n\n" + table(
        ["variant", "median ev/s", "us/event", f"vs {baseline}", "spread"], rows
    )


def pg_base_url() -> str:
    """PostgreSQL URL for benchmarks (``JOURNAL_BENCH_PG_URL``)."""
    return os.environ.get("JOURNAL_BENCH_PG_URL", DEFAULT_PG)


@contextlib.contextmanager
def pg_schema(prefix: str = "bench") -> Iterator[str]:
    """A throwaway schema; yields a URL whose search_path is that schema; dropped afterwards."""
    base = pg_base_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.connect() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def psycopg2_connect(url: str) -> Any:
    """A raw psycopg2 connection for a SQLAlchemy URL (keeps the search_path option)."""
    import psycopg2

    u = make_url(url)
    kw: dict[str, Any] = {
        "host": u.host,
        "port": u.port or 5432,
        "user": u.username,
        "dbname": u.database,
    }
    if u.password:
        kw["password"] = u.password
    if "options" in u.query:
        kw["options"] = u.query["options"]
    return psycopg2.connect(**kw)
