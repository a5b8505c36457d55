"""Collector benchmark, candles part (`bench_candle_store`, run by bench_collector.py): candles per second stored through the buffered path
(`MarketWriter`: submit N candles, flush) against the raw driver writing the same rows into the
same table in batches of the same size, on SQLite and, with ``--pg`` or JOURNAL_TEST_PG_URL, on
PostgreSQL. Interleaved rounds, a fresh table each, medians; also what ``submit`` costs the caller.
The ratio's baseline is the raw executemany INSERT (one row a statement); the row "raw upsert,
500 rows a statement" is the raw driver with the store's own SQLite strategy, for comparison.

    .venv/bin/python benchmarks/bench_collector.py [--candles 100000] [--reps 5] [--pg [URL]]
"""

from __future__ import annotations

import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_schema, psycopg2_connect, table

from journal.collector.records import Candle
from journal.collector.storage import MarketWriter
from journal.store.migrate import upgrade

logging.disable(logging.ERROR)
CANDLE_BATCH = 2000  # MarketWriter's default batch_size: the raw paths use the same
COLS = "symbol, timeframe, ts, open, high, low, close, volume, updated_at"
INSERT_SQLITE = f"INSERT INTO candles ({COLS}) VALUES (?,?,?,?,?,?,?,?,?)"
UPSERT_SQLITE = (
    INSERT_SQLITE + " ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET open = excluded.open, "
    "high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume, "
    "updated_at = excluded.updated_at"
)


# ---------------------------------------------------------------- candles part


def realistic_candles(n: int, seed: int = 5) -> list[Candle]:
    """``n`` 1m/5m candles of 10 symbols, random-walk prices (what ccxt returns: floats, ms)."""
    rng = random.Random(seed)
    series = [
        (f"{s}/USDT:USDT", tf) for s in ("BTC", "ETH", "SOL", "BNB", "XRP") for tf in ("1m", "5m")
    ]
    step = {"1m": 60_000, "5m": 300_000}
    price = {k: rng.uniform(0.5, 60_000) for k in series}
    out: list[Candle] = []
    t0 = 1_767_225_600_000
    for i in range(n):
        sym, tf = series[i % len(series)]
        k = (sym, tf)
        o = price[k]
        c = o * (1 + rng.gauss(0, 0.002))
        hi, lo = max(o, c) * (1 + rng.random() * 0.001), min(o, c) * (1 - rng.random() * 0.001)
        price[k] = c
        ts = t0 + step[tf] * (i // len(series))
        out.append(Candle(sym, tf, ts, o, hi, lo, c, rng.uniform(0, 5_000)))
    return out


def _through_writer(url: str, rows: list[Candle], spool: Path) -> float:
    w = MarketWriter(url, spool, emit=lambda e: None, auto_migrate=False)
    t0 = time.perf_counter()
    submit = w.submit
    for c in rows:
        submit(c)
    ok = w.flush(600)
    dt = time.perf_counter() - t0
    st = w.stats()
    w.close(10)
    assert ok and st.stored == len(rows), (ok, st)
    return len(rows) / dt


def _raw_sqlite(path: Path | None, rows: list[Candle], sql: str) -> float:
    assert path is not None
    now = time.time_ns() // 1_000_000
    params = [(*c, now) for c in rows]  # built before timing: the raw path's best case
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    t0 = time.perf_counter()
    for i in range(0, len(params), CANDLE_BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, params[i : i + CANDLE_BATCH])
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    conn.close()
    return len(rows) / dt


def _raw_sqlite_multi(path: Path | None, rows: list[Candle], per: int = 500) -> float:
    """The raw driver with the market store's SQLite strategy: ``per`` rows a statement
    (multi-row VALUES upsert), batches of `CANDLE_BATCH` a transaction."""
    assert path is not None and CANDLE_BATCH % per == 0
    now = time.time_ns() // 1_000_000
    one = "(" + ",".join("?" for _ in range(9)) + ")"
    sql = f"INSERT INTO candles ({COLS}) VALUES " + ",".join(one for _ in range(per))
    sql += UPSERT_SQLITE[len(INSERT_SQLITE) :]
    chunks = [  # built before timing, as for the executemany rows
        [v for c in rows[i : i + per] for v in (*c, now)] for i in range(0, len(rows), per)
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    t0 = time.perf_counter()
    step = CANDLE_BATCH // per
    for i in range(0, len(chunks), step):
        conn.execute("BEGIN IMMEDIATE")
        for chunk in chunks[i : i + step]:
            conn.execute(sql, chunk)
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    conn.close()
    return len(rows) / dt


def _raw_pg(url: str, rows: list[Candle], how: str) -> float:
    from psycopg2.extras import execute_values

    now = time.time_ns() // 1_000_000
    params = [(*c, now) for c in rows]
    conn = psycopg2_connect(url)
    cur = conn.cursor()
    t0 = time.perf_counter()
    for i in range(0, len(params), CANDLE_BATCH):
        chunk = params[i : i + CANDLE_BATCH]
        if how == "executemany":
            cur.executemany(
                f"INSERT INTO candles ({COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", chunk
            )
        else:
            execute_values(
                cur, f"INSERT INTO candles ({COLS}) VALUES %s", chunk, page_size=CANDLE_BATCH
            )
        conn.commit()
    dt = time.perf_counter() - t0
    conn.close()
    return len(rows) / dt


def _submit_ns(rows: list[Candle], tmp: Path) -> tuple[float, float]:
    """Median and p99 ns of one ``submit`` in the caller's thread (healthy SQLite store)."""
    url = f"sqlite:///{tmp}/submit.db"
    upgrade(url)
    w = MarketWriter(url, tmp / "submit_spool", emit=lambda e: None, auto_migrate=False)
    clock = time.perf_counter_ns
    samples = []
    for c in rows:
        t0 = clock()
        w.submit(c)
        samples.append(clock() - t0)
    w.flush(600)
    w.close(10)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def bench_candle_store(n: int = 100_000, reps: int = 5, pg_url: str | None = None) -> str:
    """Markdown: candles/s through `MarketWriter` vs the raw driver, SQLite (and PostgreSQL)."""
    rows = realistic_candles(n)
    sq_base, pg_base = "SQLite: raw executemany INSERT", "PostgreSQL: raw execute_values INSERT"
    # (name, dialect, run(url, sqlite path or None, spool folder) -> candles/s, baseline)
    Case = tuple[str, str, Callable[[str, Path | None, Path], float], str]
    cases: list[Case] = [
        (sq_base, "sqlite", lambda u, p, s: _raw_sqlite(p, rows, INSERT_SQLITE), sq_base),
        ("SQLite: raw executemany upsert", "sqlite", lambda u, p, s: _raw_sqlite(p, rows, UPSERT_SQLITE), sq_base),
        ("SQLite: raw upsert, 500 rows a statement", "sqlite", lambda u, p, s: _raw_sqlite_multi(p, rows), sq_base),
        ("SQLite: MarketWriter (submit, flush)", "sqlite", lambda u, p, s: _through_writer(u, rows, s), sq_base),
    ]  # fmt: skip
    if pg_url is not None:
        cases += [
            (pg_base, "pg", lambda u, p, s: _raw_pg(u, rows, "values"), pg_base),
            ("PostgreSQL: raw executemany INSERT", "pg", lambda u, p, s: _raw_pg(u, rows, "executemany"), pg_base),
            ("PostgreSQL: MarketWriter (submit, flush)", "pg", lambda u, p, s: _through_writer(u, rows, s), pg_base),
        ]  # fmt: skip
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_candles_") as t:
        tmp = Path(t)
        for r in range(reps):
            order = cases if r % 2 == 0 else cases[::-1]  # interleaved: no side always first
            for k, (name, dialect, run, _base) in enumerate(order):
                spool = tmp / f"spool{r}_{k}"
                if dialect == "sqlite":
                    path = tmp / f"c{r}_{k}.db"
                    upgrade(f"sqlite:///{path}")
                    rates.setdefault(name, []).append(run(f"sqlite:///{path}", path, spool))
                else:
                    with pg_schema("bench_candles") as url:
                        upgrade(url)
                        rates.setdefault(name, []).append(run(url, None, spool))
            print(f"  candles: round {r + 1}/{reps} done", file=sys.stderr)
        ns, p99 = _submit_ns(rows[: min(n, 50_000)], tmp)
    base_of = {name: base for name, _, _, base in cases}
    out: list[list[Any]] = []
    for name, v in rates.items():
        m = statistics.median(v)
        base = statistics.median(rates[base_of[name]])
        out.append([name, f"{m:,.0f}", f"{1e6 / m:.2f}", f"{m / base:.2f}x", f"{(max(v) - min(v)) / m:.0%}"])  # fmt: skip
    return (
        f"### Candles stored per second ({n:,} candles, batches of {CANDLE_BATCH:,}, median of "
        f"{reps} interleaved rounds)\n\n"
        + table(["path", "candles/s", "us/candle", "vs the raw INSERT", "spread"], out)
        + f"\n\nsubmit() in the caller's thread: median {ns:,.0f} ns, p99 {p99:,.0f} ns"
    )
