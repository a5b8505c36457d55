"""Health: OK / WARNING / CRITICAL with reasons, from a snapshot, using the seed's figures.

CRITICAL when any of:
- a CRITICAL error within the last 5 minutes (by whole seconds, like the rates: a
  counter, so a storm of lesser errors cannot push it out of view);
- the 1-minute error rate is above 5 errors/minute (the seed's alert threshold);
- more than half of the known breakers are OPEN.
WARNING when any of:
- a breaker is OPEN or HALF_OPEN (the seed's "1 circuit breaker(s) OPEN");
- the 5-minute error rate is at or above 1 error/minute (the seed's KPI target: < 1/min);
- a breaker with at least 20 calls is below 99% success (KPI: > 99%) and failed within
  the last 15 minutes (an old journal read as of now is not judged on its distant past);
- an error burst is ongoing.
Otherwise OK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journal.projections.incidents import IncidentsSnapshot
    from journal.projections.state import BreakerRow, ErrorRates, ErrorStats, Health

CRITICAL_RATE_PER_MIN = 5.0
WARNING_RATE_PER_MIN = 1.0
SUCCESS_TARGET_PCT = 99.0
MIN_CALLS_FOR_SUCCESS = 20
SUCCESS_LOOKBACK_US = 15 * 60_000_000
NAMED_BURSTS = 5  # a storm over thousands of types names the first few, then counts


def assess(
    errors: ErrorStats,
    rates: ErrorRates,
    critical_recent: int,
    breakers: Mapping[str, BreakerRow],
    incidents: IncidentsSnapshot,
    at: int,
) -> Health:
    """Judge health as of ``at`` (``critical_recent``: CRITICAL errors in the last 5 minutes)."""
    from journal.projections.state import Health

    critical: list[str] = []
    warning: list[str] = []
    if critical_recent:
        critical.append(f"{critical_recent} CRITICAL error(s) in the last 5 min")
    rate1 = rates.total.get(1, 0.0)
    if rate1 > CRITICAL_RATE_PER_MIN:
        critical.append(f"error rate {rate1:.1f}/min (threshold {CRITICAL_RATE_PER_MIN:g}/min)")
    open_ = [b for b in breakers.values() if b.state == "OPEN"]
    half = [b for b in breakers.values() if b.state == "HALF_OPEN"]
    if breakers and len(open_) * 2 > len(breakers):
        critical.append(f"{len(open_)} of {len(breakers)} circuit breakers OPEN")
    elif open_:
        warning.append(f"{len(open_)} circuit breaker(s) OPEN")
    if half:
        warning.append(f"{len(half)} circuit breaker(s) HALF_OPEN")
    rate5 = rates.total.get(5, 0.0)
    if rate5 >= WARNING_RATE_PER_MIN and rate1 <= CRITICAL_RATE_PER_MIN:
        warning.append(
            f"error rate {rate5:.2f}/min over 5 min (target < {WARNING_RATE_PER_MIN:g}/min)"
        )
    for b in breakers.values():
        recent = b.last_failure is not None and at - b.last_failure <= SUCCESS_LOOKBACK_US
        if recent and b.calls >= MIN_CALLS_FOR_SUCCESS and b.success_rate < SUCCESS_TARGET_PCT:
            warning.append(
                f"{b.name} success rate {b.success_rate:.2f}% (target > {SUCCESS_TARGET_PCT:g}%)"
            )
    bursts = [i for i in incidents.ongoing if i.kind == "burst"]
    if bursts:
        keys = ", ".join(i.key for i in bursts[:NAMED_BURSTS])
        more = f" and {len(bursts) - NAMED_BURSTS} more" if len(bursts) > NAMED_BURSTS else ""
        warning.append(f"{len(bursts)} error burst(s) ongoing: {keys}{more}")
    if critical:
        return Health(
            "CRITICAL", "CRITICAL - Immediate attention needed", tuple(critical + warning)
        )
    if warning:
        return Health("WARNING", "WARNING - Moderate errors", tuple(warning))
    return Health("OK", "OK - All systems normal", ())
