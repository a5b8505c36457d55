"""Import cost: `import journal` and what users write, vs `import tenacity, pybreaker`.

Each variant runs in a fresh interpreter (``python -c``), interleaved round by round, from a
temporary working directory; the figure is the median wall time of the whole process, and the
import cost is that minus the median of ``python -c pass``.

    .venv/bin/python benchmarks/bench_import.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

VARIANTS = {
    "python -c pass": "pass",
    "import tenacity, pybreaker": "import tenacity, pybreaker",
    "import journal": "import journal",
    "from journal import record_error, circuit_breaker": (
        "from journal import record_error, circuit_breaker"
    ),
    "from journal import record_error, circuit_breaker, retry_with_backoff": (
        "from journal import record_error, circuit_breaker, retry_with_backoff"
    ),
    "import journal; journal.configure(...)  (store, writer)": (
        "import journal, tempfile; journal.configure("
        "f'sqlite:///{tempfile.mkdtemp()}/j.db', auto_migrate=False); journal.shutdown(1)"
    ),
}
BASELINE = "import tenacity, pybreaker"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as cwd:
        for code in VARIANTS.values():  # warm the OS file cache once
            subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
        for _ in range(args.runs):
            for name, code in VARIANTS.items():
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
                times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    start = med["python -c pass"]
    base = med[BASELINE] - start
    rows = [
        [
            f"`{name}`",
            f"{med[name] * 1000:.0f}",
            f"{(med[name] - start) * 1000:.0f}",
            f"{med[name] / med[BASELINE]:.2f}x",
            f"{(med[name] - start) / base:.2f}x" if name != "python -c pass" else "-",
        ]
        for name in VARIANTS
    ]
    print(f"### Import cost ({args.runs} fresh processes each, medians)\n")
    print(
        table(
            [
                "variant",
                "process ms",
                "import ms (minus `pass`)",
                "process vs tenacity+pybreaker",
                "import vs tenacity+pybreaker",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
