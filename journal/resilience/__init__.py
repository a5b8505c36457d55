"""Protection on the hot path: circuit breakers, retries with backoff and the error tracker.
In memory; they emit events and never wait on IO."""
