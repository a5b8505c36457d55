"""Hot path: nanoseconds per call through our breaker and retry vs pybreaker and tenacity.

Interleaved rounds, calibrated loops, medians. Also the OPEN fast-fail path and
record_error() in the caller's thread (event build + redaction + live projections +
hand-offs) as users call it: a constant context, a 5-key context whose values change on
every call (ids, URLs, messages), the same with a random hex id, and one full of secrets;
median and p99 per call with gc on. Then what redaction costs per text.

    .venv/bin/python benchmarks/bench_hot_path.py [--reps 7] [--seconds 0.15]
    .venv/bin/python benchmarks/bench_hot_path.py --record-error-only   # also runs on older trees
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

import journal
from journal.errors import CircuitBreakerError
from journal.process import emitter
from journal.resilience.breaker import CircuitBreaker
from journal.resilience.retry import retry_with_backoff

logging.disable(logging.WARNING)


def f(x: int) -> int:
    return x + 1


def boom(x: int) -> int:
    raise ConnectionError("down")


class MiniBreaker:
    """The floor: a minimal hand-written breaker."""

    def __init__(self, threshold: int = 5) -> None:
        self.failures, self.threshold, self.open = 0, threshold, False

    def call(self, fn: Callable[[int], int], x: int) -> int:
        if self.open:
            raise RuntimeError("open")
        try:
            r = fn(x)
        except Exception:
            self.failures += 1
            self.open = self.failures >= self.threshold
            raise
        self.failures = 0
        return r


def variants(tmp: str) -> tuple[dict[str, Callable[[], object]], dict[str, Callable[[], object]]]:
    import pybreaker
    import tenacity

    emitter.mark_configured(True)  # breaker/retry events go to the bus with nothing attached
    ours = CircuitBreaker("bench")
    ours_deco = CircuitBreaker("bench_deco")(f)
    ours_retry = retry_with_backoff(max_retries=5)(f)
    stacked = retry_with_backoff(max_retries=5)(CircuitBreaker("bench_stacked")(f))
    mini = MiniBreaker()
    pyb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    ten = tenacity.retry(stop=tenacity.stop_after_attempt(5), wait=tenacity.wait_exponential())(f)
    pyb_ten = pyb(
        tenacity.retry(stop=tenacity.stop_after_attempt(5), wait=tenacity.wait_exponential())(f)
    )

    success: dict[str, Callable[[], object]] = {
        "bare f(x)": lambda: f(1),
        "mini breaker (floor)": lambda: mini.call(f, 1),
        "ours: CircuitBreaker.call": lambda: ours.call(f, 1),
        "ours: @breaker decorator": lambda: ours_deco(1),
        "ours: retry_with_backoff": lambda: ours_retry(1),
        "ours: retry + breaker stacked": lambda: stacked(1),
        "pybreaker": lambda: pyb.call(f, 1),
        "tenacity": lambda: ten(1),
        "pybreaker + tenacity stacked": lambda: pyb_ten(1),
    }

    open_ours = CircuitBreaker("bench_open", failure_threshold=1, recovery_timeout=3600)
    open_pyb = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=3600)
    for b_call in (lambda: open_ours.call(boom, 1), lambda: open_pyb.call(boom, 1)):
        try:
            b_call()
        except Exception:
            pass

    def catch(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            try:
                return fn()
            except Exception:
                return None

        return run

    failure: dict[str, Callable[[], object]] = {
        "raise + catch (floor)": catch(lambda: boom(1)),
        "ours: OPEN fast-fail": catch(lambda: open_ours.call(f, 1)),
        "pybreaker: OPEN fast-fail": catch(lambda: open_pyb.call(f, 1)),
    }
    assert isinstance(_probe(open_ours), CircuitBreakerError)
    return success, failure


def _probe(b: CircuitBreaker) -> BaseException | None:
    try:
        b.call(f, 1)
    except BaseException as exc:
        return exc
    return None


def calibrate(fn: Callable[[], object], seconds: float) -> int:
    n = 1000
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= seconds / 4:
            return max(1000, int(n * seconds / dt))
        n *= 4


def run(
    group: dict[str, Callable[[], object]], reps: int, seconds: float
) -> dict[str, list[float]]:
    loops = {k: calibrate(fn, seconds) for k, fn in group.items()}
    out: dict[str, list[float]] = {k: [] for k in group}
    for r in range(reps):
        items = list(group.items())
        items = items[r % len(items) :] + items[: r % len(items)]
        for name, fn in items:
            n = loops[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            out[name].append((time.perf_counter() - t0) / n * 1e9)
    return out


Scenario = Callable[[int], tuple[object, object, dict[str, object]]]


def scenarios() -> dict[str, Scenario]:
    """record_error arguments as users pass them, built outside the timed call."""
    exc = ConnectionError("Failed to connect to Binance API")
    const_ctx: dict[str, object] = {"symbol": "SOL/USDT", "function": "fetch_ohlcv"}

    def constant(n: int) -> tuple[object, object, dict[str, object]]:
        return "api_ohlcv_error", exc, const_ctx

    def varying(n: int) -> tuple[object, object, dict[str, object]]:
        ts = 1_700_000_000_000 + n * 60_000
        return (
            "api_ohlcv_error",
            ConnectionError(f"Failed to connect to Binance API (request {n})"),
            {
                "symbol": "SOL/USDT",
                "order_id": n,
                "url": f"https://api.binance.com/api/v3/klines?symbol=SOLUSDT&startTime={ts}",
                "detail": f"request {n} timed out after 10s",
                "attempt": n % 5,
            },
        )

    def varying_hex(n: int) -> tuple[object, object, dict[str, object]]:
        error_type, error, ctx = varying(n)
        return error_type, error, {**ctx, "request_id": os.urandom(16).hex()}

    def secrets(n: int) -> tuple[object, object, dict[str, object]]:
        sig = os.urandom(16).hex()
        return (
            "api_auth_error",
            ValueError(f"api_key=AK{sig[:14]} rejected (request {n})"),
            {
                "symbol": "SOL/USDT",
                "api_key": f"AK{sig}",
                "url": f"https://fapi.binance.com/fapi/v1/order?symbol=SOLUSDT&timestamp={n}&signature={sig}",
                "headers": {"X-MBX-APIKEY": f"AK{sig}", "Accept": "application/json"},
                "detail": f"Authorization: Bearer {sig} refused",
            },
        )

    return {
        "constant context": constant,
        "varying 5-key context (ids, URL, message)": varying,
        "varying + a random hex id": varying_hex,
        "varying, with secrets to redact": secrets,
    }


def record_error_costs(tmp: str, n: int, reps: int) -> dict[str, tuple[list[float], list[float]]]:
    """record_error in the caller's thread, gc on: per scenario, median and p99 ns per round."""
    emitter.mark_configured(False)
    journal.configure(f"sqlite:///{tmp}/hot.db", flush_interval=0.2)
    gc.enable()
    counter = itertools.count()
    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in scenarios()}
    for _ in range(reps):
        for name, make in scenarios().items():
            samples = []
            for _ in range(n):
                error_type, error, ctx = make(next(counter))
                t0 = time.perf_counter_ns()
                journal.record_error(error_type, error, ctx)  # type: ignore[arg-type]
                samples.append(time.perf_counter_ns() - t0)
            samples.sort()
            out[name][0].append(statistics.median(samples))
            out[name][1].append(samples[int(len(samples) * 0.99)])
            journal.flush(30)
    journal.shutdown(30)
    return out


def redaction_costs(n: int) -> list[list[str]]:
    """ns per text through redact_text, every text new (no cache hit), and a 10 MB message."""
    from journal.events import error_event
    from journal.sanitizing.redaction import redact_text

    counter = itertools.count()
    texts: dict[str, Callable[[], str]] = {
        "message, no hint (~40 chars)": lambda: f"request {next(counter)} timed out after 10s",
        "URL, no secret (~80 chars)": lambda: (
            f"https://api.binance.com/api/v3/klines?symbol=SOLUSDT&startTime={next(counter)}"
        ),
        "message with hex id, no secret": lambda: f"order {os.urandom(8).hex()} rejected",
        "message with 2 secrets (~90 chars)": lambda: (
            f"ValueError: api_key={os.urandom(8).hex()} password=pw{next(counter)} failed"
        ),
        "URL with signature (~110 chars)": lambda: (
            f"https://fapi.binance.com/fapi/v1/order?symbol=SOLUSDT&timestamp={next(counter)}"
            f"&signature={os.urandom(16).hex()}"
        ),
    }
    rows = []
    for label, make in texts.items():
        batch = [make() for _ in range(n)]
        t0 = time.perf_counter_ns()
        for t in batch:
            redact_text(t)
        rows.append([label, f"{(time.perf_counter_ns() - t0) / n:,.0f}"])
    big = "key=value " * 1_000_000  # 10 MB of key=value pairs
    t0 = time.perf_counter_ns()
    error_event("big", big)
    rows.append(
        ["error_event with a 10 MB key=value message", f"{time.perf_counter_ns() - t0:,.0f}"]
    )
    return rows


def print_record_error(args: argparse.Namespace, tmp: str) -> None:
    n = args.calls
    res = record_error_costs(tmp, n, args.rounds)
    print(
        "\n### record_error() in the caller's thread (event build + redaction + live projections + hand-offs), gc on\n"
    )
    print(
        table(
            [
                "context",
                "calls per round",
                "median ns (median of rounds)",
                "p99 ns (median of rounds)",
            ],
            [
                [name, f"{n:,}", f"{statistics.median(m):,.0f}", f"{statistics.median(p):,.0f}"]
                for name, (m, p) in res.items()
            ],
        )
    )
    print("\n### Redaction per text (each text new: no cache hit)\n")
    print(table(["text", "ns"], redaction_costs(20_000)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.15)
    ap.add_argument("--calls", type=int, default=20_000, help="record_error calls per round")
    ap.add_argument("--rounds", type=int, default=5, help="record_error rounds")
    ap.add_argument("--record-error-only", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_hot_") as tmp:
        if args.record_error_only:
            print_record_error(args, tmp)
            return
        success, failure = variants(tmp)
        res = run(success, args.reps, args.seconds)
        pyb = statistics.median(res["pybreaker"])
        pt = statistics.median(res["pybreaker + tenacity stacked"])
        rows = []
        for k, v in res.items():
            m = statistics.median(v)
            rows.append([k, f"{m:,.0f}", f"{m / pyb:.2f}x", f"{m / pt:.3f}x"])
        print(f"### Success path (ns/call, median of {args.reps} interleaved rounds)\n")
        print(table(["variant", "ns/call", "vs pybreaker", "vs pybreaker+tenacity"], rows))
        fres = run(failure, args.reps, args.seconds)
        fp = statistics.median(fres["pybreaker: OPEN fast-fail"])
        print("\n### Failure path (ns/call)\n")
        print(
            table(
                ["variant", "ns/call", "vs pybreaker OPEN"],
                [
                    [k, f"{statistics.median(v):,.0f}", f"{statistics.median(v) / fp:.2f}x"]
                    for k, v in fres.items()
                ],
            )
        )
        print_record_error(args, tmp)


if __name__ == "__main__":
    main()
