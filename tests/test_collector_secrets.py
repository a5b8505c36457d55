"""With an API key and secret, no fault on a signed call leaks them, nor the request signature.

The signed call is ``fetch_my_liquidations`` (``GET /fapi/v1/forceOrders?...&signature=``, header
``X-MBX-APIKEY``), through the same attempt/retry/breaker path as every other method. The fake
has no route for it, so the test adds one to ``fake.market.routes`` that answers one liquidation.
Every fault kind is injected; then the journal's SQLite file and its
WAL, a ``journal export``, the spool written during a store outage, the captured logs (DEBUG,
ccxt's records included), stdout/stderr and what the caller caught are searched for the key, the
secret, every signature and timestamp the fake received.
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from pathlib import Path

import pytest

import journal
from journal.collector.fake_exchange import FAULT_KINDS, FakeBinance
from tests.collector_support import SYMBOL, FakeTime, make_client
from tests.journal_cli import run_journal

SIGNED_PATH = "/fapi/v1/forceOrders"
LIQUIDATION = {
    "orderId": 6071832819,
    "symbol": "SOLUSDT",
    "status": "FILLED",
    "clientOrderId": "autoclose-1596107620040000020",
    "price": "148.10",
    "avgPrice": "148.52",
    "origQty": "12",
    "executedQty": "12",
    "cumQuote": "1782.24",
    "timeInForce": "IOC",
    "type": "LIMIT",
    "reduceOnly": False,
    "closePosition": False,
    "side": "SELL",
    "positionSide": "BOTH",
    "stopPrice": "0",
    "workingType": "CONTRACT_PRICE",
    "origType": "LIMIT",
    "time": 1796000000000,
    "updateTime": 1796000000000,
}
# an empty list is a valid answer here, so these faults pass as "no liquidations"
LEGITIMATELY_EMPTY = {"empty-array"}
KEY = "k3y" + secrets.token_hex(30)  # 63 characters, like a Binance key
SECRET = "s3c" + secrets.token_hex(30)


async def _signed_calls_under_every_fault(caught: list[str]) -> FakeBinance:
    """Run the signed call under each fault kind (retried once) and once cleanly."""
    t = FakeTime()
    async with FakeBinance() as fake:
        fake.market.routes[SIGNED_PATH] = lambda query, now: [LIQUIDATION]  # the fake has none
        async with make_client(
            fake,
            t,
            api_key=KEY,
            api_secret=SECRET,
            max_retries=1,
            failure_threshold=1000,
            timeout_ms=300,
        ) as c:
            for kind in FAULT_KINDS:
                fake.clear_faults()
                fake.inject(SIGNED_PATH, kind, times=None, arg=1.5 if "stall" in kind else 1)
                t.now += 1000  # past any ban
                try:
                    await c.fetch_my_liquidations(SYMBOL)
                except Exception as exc:
                    caught.append(repr(exc) + str(exc) + "".join(traceback.format_exception(exc)))
                else:
                    assert kind in LEGITIMATELY_EMPTY, f"{kind} did not fail"
            fake.clear_faults()
            t.now += 1000
            (liquidation,) = await c.fetch_my_liquidations(SYMBOL)
            assert liquidation.price == 148.52 and liquidation.contracts == 12
    return fake


def _needles(fake: FakeBinance) -> list[bytes]:
    signed = [r for r in fake.requests if r.path == SIGNED_PATH]
    assert len(signed) > len(FAULT_KINDS)  # every kind, retried, reached the fake signed
    assert {r.headers.get("X-MBX-APIKEY") for r in signed} == {KEY}
    needles = {KEY, SECRET}
    for r in signed:
        needles.add(r.query["signature"])
        needles.add("timestamp=" + r.query["timestamp"])
        needles.add("signature=" + r.query["signature"])
    return [n.encode() for n in needles]


_PARAM = re.compile(rb"(?:signature|timestamp|recvWindow)=[0-9a-fA-F]")


def _assert_clean(where: str, data: bytes, needles: list[bytes]) -> None:
    for n in needles:
        at = data.find(n)
        assert at < 0, f"{n[:12]!r}... leaked into {where}: {data[max(0, at - 300) : at + 80]!r}"
    assert not _PARAM.search(data), f"a signed-query value leaked into {where}"


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


async def test_no_fault_leaks_the_key_secret_or_signature_into_journal_export_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("ccxt", "journal.collector.ccxt", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    db = tmp_path / "j.db"
    url = f"sqlite:///{db}"
    journal.configure(url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    caught: list[str] = []
    try:
        fake = await _signed_calls_under_every_fault(caught)
        assert journal.flush(10)
        needles = _needles(fake)
        wal = Path(f"{db}-wal")
        for f in (db, wal):
            if f.exists():
                _assert_clean(f.name, f.read_bytes(), needles)
    finally:
        journal.shutdown(10)
    _assert_clean("the SQLite file", db.read_bytes(), needles)
    exported = tmp_path / "export.json"
    done = run_journal("export", "--db", url, "-o", str(exported), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = exported.read_bytes()
    assert b"api_liquidations_error" in body and b"binance_liquidations" in body
    _assert_clean("journal export", body, needles)
    # the logs: ccxt's DEBUG request/response records were captured, and scrubbed
    ccxt_records = [r for r in caplog.records if r.name == "journal.collector.ccxt"]
    assert any("Request:" in r.getMessage() for r in ccxt_records)
    assert any(SIGNED_PATH in r.getMessage() for r in ccxt_records)
    # the fake exchange's own access log (the server side, as Binance's logs) is not ours
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]
    assert any(r.name == "aiohttp.access" for r in caplog.records)  # it was captured, though
    logs = "\n".join(logging.Formatter().format(r) for r in ours)
    _assert_clean("captured logs", logs.encode(), needles)
    out = capsys.readouterr()
    _assert_clean("stdout/stderr", (out.out + out.err).encode(), needles)
    _assert_clean("what the caller caught", "\n".join(caught).encode(), needles)
    assert len(caught) == len(FAULT_KINDS) - len(LEGITIMATELY_EMPTY)


async def test_no_fault_leaks_them_into_the_spool_during_a_store_outage(tmp_path: Path) -> None:
    blocker = tmp_path / "gone"
    blocker.write_text("not a directory")  # the database cannot be opened: an outage
    spool = tmp_path / "spool"
    journal.configure(
        f"sqlite:///{blocker}/j.db", source="test:1", spool_dir=spool, flush_interval=0.05
    )
    caught: list[str] = []
    try:
        fake = await _signed_calls_under_every_fault(caught)
        assert not journal.flush(2)  # not in a database: in the spool
    finally:
        journal.shutdown(5)
    files = _files(spool)
    data = b"".join(p.read_bytes() for p in files)
    assert b"api_liquidations_error" in data  # the errors are there
    _assert_clean("the spool", data, _needles(fake))


def test_a_key_too_short_to_scrub_is_refused() -> None:
    from journal.collector.binance import HardenedBinanceFuturesClient
    from journal.sanitizing.redaction import SecretTooShortError

    with pytest.raises(SecretTooShortError):
        HardenedBinanceFuturesClient(api_key="abc", api_secret=SECRET)
