"""Alert sinks (logging, webhook, Slack, email, any callable) and the dispatcher thread.

Alert rules and sinks run on the dispatcher's own thread, never on the hot path:
`AlertDispatcher.submit` is a non-blocking append. Each delivery is retried with tenacity; a sink that still fails
is recorded as one ``journal`` event ``alert_sink_error``, at most once per sink per
``failure_cooldown`` (the rest are counted as suppressed), and such events never reach
the alert rules, so a broken sink cannot alert about itself in a loop.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from tenacity import Retrying, stop_after_attempt, wait_exponential

from journal.alerting.rules import AlertEngine
from journal.events import Event, iso, journal_event
from journal.process import emitter
from journal.sanitizing.redaction import is_secret_key, library_logger, redact_text, register_secret

log = library_logger("journal.alerts")


class Sink(Protocol):
    """Anything with a ``name`` that takes an alert event."""

    name: str

    def __call__(self, alert: Event) -> None: ...


def _line(alert: Event) -> str:
    return f"[{alert.severity}] {alert.error_type} {alert.name}: {alert.message} at {iso(alert.ts)}"


class LoggingSink:
    """Logs alerts to ``journal.alerts`` (the default sink)."""

    name = "logging"
    _levels: Mapping[str, int] = {
        "CRITICAL": logging.CRITICAL,
        "ERROR": logging.ERROR,
        "WARNING": logging.WARNING,
    }

    def __call__(self, alert: Event) -> None:
        log.log(self._levels.get(alert.severity or "", logging.WARNING), "ALERT %s", _line(alert))


def _post_json(url: str, payload: Any, headers: Mapping[str, str], timeout: float) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # raises HTTPError on 4xx/5xx
        resp.read()


class WebhookSink:
    """POSTs the alert event as JSON."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        name: str = "webhook",
    ) -> None:
        self.url, self.headers, self.timeout, self.name = url, dict(headers or {}), timeout, name
        register_secret(url)  # a webhook URL is a credential
        for header, value in self.headers.items():
            if is_secret_key(header):  # Content-Type: json is no secret (and too short to scrub)
                register_secret(value)

    def __call__(self, alert: Event) -> None:
        _post_json(self.url, alert.to_dict(), self.headers, self.timeout)


class SlackSink:
    """Posts to a Slack incoming webhook."""

    def __init__(self, webhook_url: str, timeout: float = 5.0, name: str = "slack") -> None:
        self.url, self.timeout, self.name = webhook_url, timeout, name
        register_secret(webhook_url)

    def __call__(self, alert: Event) -> None:
        icon = ":rotating_light:" if alert.severity == "CRITICAL" else ":warning:"
        _post_json(self.url, {"text": f"{icon} {_line(alert)}"}, {}, self.timeout)


class EmailSink:
    """Sends an email per alert through SMTP."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        name: str = "email",
    ) -> None:
        if not recipients:
            raise ValueError("EmailSink needs at least one recipient")
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self.username, self._password, self.starttls, self.timeout, self.name = (
            username,
            password,
            starttls,
            timeout,
            name,
        )
        register_secret(password)

    def __call__(self, alert: Event) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[journal] {alert.severity} {alert.error_type} {alert.name}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(
            f"{_line(alert)}\n\nrule: {alert.error_type}\nkey: {alert.name}\nsource: {alert.source}\n"
            f"context: {json.dumps(alert.context, ensure_ascii=False)}\n"
        )
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self._password:
                smtp.login(self.username, self._password)
            smtp.send_message(msg)


class CallableSink:
    """Wraps any callable taking the alert event."""

    def __init__(self, fn: Callable[[Event], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")

    def __call__(self, alert: Event) -> None:
        self.fn(alert)


def as_sink(obj: Sink | Callable[[Event], Any]) -> Sink:
    """A sink from a sink or a plain callable."""
    return obj if isinstance(getattr(obj, "name", None), str) else CallableSink(obj)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class DispatcherStats:
    """What the dispatcher has done."""

    queued: int
    sent: int
    failed: int
    dropped: int
    suppressed_errors: int
    per_sink: Mapping[str, Mapping[str, int]]


class AlertDispatcher:
    """Delivers alerts to sinks on a daemon thread, with retries and a per-sink failure cooldown."""

    def __init__(
        self,
        sinks: Iterable[Sink | Callable[[Event], Any]] = (),
        *,
        emit: Callable[[Event], None] | None = None,
        max_queue: int = 100_000,
        retry_attempts: int = 3,
        retry_wait: float = 0.5,
        failure_cooldown: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        engine: AlertEngine | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self.engine = engine
        self.poll_interval = poll_interval  # a safety net only: submits wake the worker
        self.sinks: list[Sink] = [as_sink(s) for s in sinks] or [LoggingSink()]
        self._emit = emit
        self.max_queue, self.retry_attempts, self.retry_wait = (
            max_queue,
            max(1, retry_attempts),
            retry_wait,
        )
        self.failure_cooldown, self._clock, self._sleep = failure_cooldown, clock, sleep
        self._q: deque[Event] = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._waiting = True  # the worker waits for a signal (read without the lock on submit)
        self._idle_lock = threading.Lock()
        self._stop = False
        self._sent = self._failed = self._dropped = self._suppressed = 0
        self._per: dict[str, dict[str, int]] = {
            s.name: {"sent": 0, "failed": 0} for s in self.sinks
        }
        self._last_error: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="journal-alerts", daemon=True)
        self._thread.start()

    def submit(self, alert: Event) -> None:
        """Queue an event (O(1); never blocks, never raises): alerts are delivered to the sinks;
        with an ``engine``, other events are evaluated by the alert rules on this thread."""
        if len(self._q) >= self.max_queue or self._stop:
            self._dropped += 1
            return
        self._q.append(alert)
        # Signal only a worker that is waiting: a busy one drains the queue before it waits
        # (it re-checks the queue after saying it waits, so one of the two always sees the
        # other). Setting an Event on every call was most of what a submit cost.
        if self._waiting:
            self._signal()

    def _signal(self) -> None:
        with self._idle_lock:
            if self._waiting:
                self._waiting = False
                self._idle.clear()
                self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            with self._idle_lock:
                self._waiting = False
                self._idle.clear()
            while True:
                while self._q:
                    event = self._q.popleft()
                    if event.kind == "alert":
                        for sink in self.sinks:
                            self._deliver(sink, event)
                    elif self.engine is not None:
                        self._evaluate(event)
                with self._idle_lock:
                    if self._q:
                        continue
                    self._waiting = True
                    self._idle.set()
                if not self._q:  # re-check after saying so: a submit in between is seen
                    break
                with self._idle_lock:
                    self._waiting = False
                    self._idle.clear()
            if self._stop and not self._q:
                return

    def _evaluate(self, event: Event) -> None:
        try:
            fired = self.engine.apply(event) if self.engine is not None else []
        except Exception:
            log.exception("journal: alert rule evaluation failed")
            return
        for alert in fired:  # onto the bus: folded, written, and back here for delivery
            try:
                (self._emit or emitter.emit)(alert)
            except Exception:
                pass

    def _deliver(self, sink: Sink, alert: Event) -> None:
        per = self._per.setdefault(sink.name, {"sent": 0, "failed": 0})
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.retry_attempts),
                wait=wait_exponential(multiplier=self.retry_wait, max=30),
                sleep=lambda s: self._sleep(s) if s > 0 else None,
                reraise=True,
            ):
                with attempt:
                    sink(alert)
        except Exception as exc:
            self._failed += 1
            per["failed"] += 1
            self._sink_failed(sink, alert, exc)
            return
        self._sent += 1
        per["sent"] += 1

    def _sink_failed(self, sink: Sink, alert: Event, exc: Exception) -> None:
        now = self._clock()
        last = self._last_error.get(sink.name)
        if last is not None and now - last < self.failure_cooldown:
            self._suppressed += 1
            return
        self._last_error[sink.name] = now
        error = redact_text(f"{type(exc).__name__}: {exc}")
        log.error(
            "journal: alert sink %s failed after %d attempt(s): %s",
            sink.name,
            self.retry_attempts,
            error,
        )
        event = journal_event(
            "alert_sink_error",
            f"alert sink {sink.name} failed: {error}",
            context={"sink": sink.name, "rule": alert.error_type, "key": alert.name, "error": error,
                     "attempts": self.retry_attempts},
        )  # fmt: skip
        try:
            (self._emit or emitter.emit)(event)
        except Exception:
            pass

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued alert was handled; False on timeout."""
        deadline = time.monotonic() + timeout
        while not (self._idle.is_set() and not self._q):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._wake.set()
            if self._idle.is_set():  # a submit is about to wake the worker
                time.sleep(0.001)
            else:
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued (within ``timeout``) and stop the thread."""
        done = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        return done

    def stats(self) -> DispatcherStats:
        """Counts so far."""
        return DispatcherStats(
            queued=len(self._q),
            sent=self._sent,
            failed=self._failed,
            dropped=self._dropped,
            suppressed_errors=self._suppressed,
            per_sink={k: dict(v) for k, v in self._per.items()},
        )
