"""The process-wide journal: the bus the hot path emits into, its life (configure, flush,
shutdown) and fork safety."""
