"""Hot path: nanoseconds per call through our breaker and retry vs pybreaker and tenacity.

Interleaved rounds, calibrated loops, medians. Also the OPEN fast-fail path and
record_error() in the caller's thread (event build + live projections + hand-offs).

    .venv/bin/python benchmarks/bench_hot_path.py [--reps 7] [--seconds 0.15]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

import journal
from journal import runtime
from journal.breaker import CircuitBreaker
from journal.errors import CircuitBreakerError
from journal.retry import retry_with_backoff

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

    runtime.mark_configured(True)  # breaker/retry events go to the bus with nothing attached
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


def record_error_cost(tmp: str, n: int, reps: int) -> tuple[list[float], list[float]]:
    """record_error in the caller's thread: median and p99 of per-call ns, per round."""
    runtime.mark_configured(False)
    journal.configure(f"sqlite:///{tmp}/hot.db", flush_interval=0.2)
    exc = ConnectionError("Failed to connect to Binance API")
    ctx = {"symbol": "SOL/USDT", "function": "fetch_ohlcv"}
    med, p99 = [], []
    for _ in range(reps):
        samples = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            journal.record_error("api_ohlcv_error", exc, ctx)
            samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        med.append(statistics.median(samples))
        p99.append(samples[int(len(samples) * 0.99)])
        journal.flush(30)
    journal.shutdown(30)
    return med, p99


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_hot_") as tmp:
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
        med, p99 = record_error_cost(tmp, 20_000, max(3, args.reps // 2))
        print(
            "\n### record_error() in the caller's thread (event build + redaction + live projections + hand-offs)\n"
        )
        print(
            table(
                ["calls per round", "median ns (median of rounds)", "p99 ns (median of rounds)"],
                [
                    [
                        f"{20_000:,}",
                        f"{statistics.median(med):,.0f}",
                        f"{statistics.median(p99):,.0f}",
                    ]
                ],
            )
        )


if __name__ == "__main__":
    main()
