"""`journal collect` as a user runs it: against the fake exchange in its own process, on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.journal_cli import assert_one_line_error, run_journal


@pytest.fixture
def fake_url(tmp_path: Path) -> Iterator[str]:
    """A fake Binance in a subprocess (profile "calm"); its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "journal.collector.fake_exchange",
            "--port",
            "0",
            "--profile",
            "calm",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
    yield line
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()  # nothing listens there now
    return port


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--symbols", "DOGE/XYZ"), "unknown symbol 'DOGE/XYZ'"),
        (("--symbols", "BTC/USDT", "--timeframe", "7m"), "bad --timeframe '7m'"),
        (("--symbols", "BTC/USDT", "--every", "0"), "--every must be more than 0"),
        (("--symbols", "BTC/USDT", "--every", "soon"), "bad --every 'soon'"),
        (("--symbols", "BTC-USDT"), "bad symbol 'BTC-USDT'"),
        (("--symbols", ","), "--symbols is empty"),
        (("--symbols", "BTC/USDT", "--endpoints", "ohlcv,trades"), "bad --endpoints"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, fake_url: str, args: tuple[str, ...], fragment: str
) -> None:
    done = run_journal(
        "collect", *args, "--exchange-url", fake_url, "--db", f"sqlite:///{tmp_path}/c.db",
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(done, fragment)


def test_unreachable_exchange_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_dead_port()}"
    done = run_journal(
        "collect", "--symbols", "BTC/USDT", "--exchange-url", url,
        "--db", f"sqlite:///{tmp_path}/c.db", cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(done, f"cannot reach the exchange at {url}")


def test_bad_exchange_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_journal(
        "collect", "--symbols", "BTC/USDT", "--exchange-url", "ftp://example",
        "--db", f"sqlite:///{tmp_path}/c.db", cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(done, "exchange-url")


def test_collects_until_sigterm_then_flushes_and_exits_0(tmp_path: Path, fake_url: str) -> None:
    """Both symbol spellings; candles land in their table once each; SIGTERM exits 0."""
    import os

    from journal.collector.storage import MarketStore

    db = f"sqlite:///{tmp_path}/c.db"
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_DB_URL", "COLUMNS")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal", "collect", "--symbols", "BTC/USDT,SOL/USDT:USDT",
         "--timeframe", "1m", "--every", "1s", "--backfill", "30",
         "--exchange-url", fake_url, "--db", db],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        counts: dict[str, int] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if (tmp_path / "c.db").exists():
                try:
                    with MarketStore(db) as store:
                        counts = {
                            t: store.count(t) for t in ("candles", "open_interest", "funding_rates")
                        }
                except Exception:
                    counts = {}
            if counts and counts["candles"] >= 60 and min(counts.values()) >= 2:
                break  # every endpoint has delivered for both symbols
        else:
            raise AssertionError(proc.stderr.read() if proc.poll() is not None else f"{counts}")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "collected" in err
    store = MarketStore(db)
    try:
        assert store.count("candles") == store.distinct_keys("candles")
        symbols = {c.symbol for c in store.read("candles")}
        assert symbols == {"BTC/USDT:USDT", "SOL/USDT:USDT"}
        assert store.count("open_interest") >= 2 and store.count("funding_rates") >= 2
    finally:
        store.close()
    status = run_journal("status", "--once", "--json", "--db", db, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    board = json.loads(status.stdout)
    names = {b["name"] for b in board["breakers"]}
    assert {"binance_ohlcv", "binance_oi", "binance_funding", "binance_trader_ratio"} <= names
