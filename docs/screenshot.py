"""Save the monitor's Live screen as ``docs/monitor.svg`` (the README's screenshot).

Run ``make demo`` first (it leaves the demo journal in ``journal.db``), then:

    .venv/bin/python docs/screenshot.py [--db sqlite:///journal.db] [--size 120x40]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from journal.events import now_us
from journal.store.event_store import EventStore
from journal.tui.app import MonitorApp

DOCS = Path(__file__).resolve().parent


async def shoot(url: str, width: int, height: int, out: Path) -> None:
    """Open the monitor headless as of the journal's newest event (as if just after the demo),
    wait for the first board, save the screen."""
    with EventStore(url) as store:
        span = store.span()
    newest = span[1] if span is not None else now_us()
    app = MonitorApp(url, follow=False, clock=lambda: newest)
    async with app.run_test(size=(width, height)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if app.live_board is not None:
                break
        await pilot.pause(0.2)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite:///journal.db")
    p.add_argument("--size", default="120x40")
    p.add_argument("-o", "--output", default=str(DOCS / "monitor.svg"))
    args = p.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    asyncio.run(shoot(args.db, width, height, Path(args.output)))
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
