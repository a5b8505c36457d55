"""Pure folds of events: counts, rates, the breaker board, incidents and health.
No IO, no threads, no wall clock: live and replay give the same answers."""
