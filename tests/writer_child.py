"""Child process for the kill -9 test: spools events during an outage, reports, waits to die."""

from __future__ import annotations

import sys
import time

from journal.events import error_event
from journal.store.event_store import EventStore
from journal.writing.writer import BufferedWriter


def main() -> None:
    url, spool_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    writer = BufferedWriter(
        EventStore(url),
        spool_dir=spool_dir,
        flush_interval=0.05,
        retry_attempts=1,
        emit=lambda e: None,
    )
    for i in range(n):
        writer.submit(
            error_event("crash_test", f"event {i}", ts=1_800_000_000_000_000 + i, source="child")
        )
    deadline = time.monotonic() + 30
    while writer.stats().spooled < n and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"spooled {writer.stats().spooled}", flush=True)
    time.sleep(600)  # killed with SIGKILL before this ends


if __name__ == "__main__":
    main()
