"""Alerts: the rules (pure, on event time) and the sinks that deliver fired alerts on
their own thread."""
