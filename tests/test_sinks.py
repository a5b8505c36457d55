"""Alert sinks against real servers on 127.0.0.1; the dispatcher's retries and cooldown."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from journal.alerting.sinks import AlertDispatcher, CallableSink, EmailSink, SlackSink, WebhookSink
from journal.events import Event, alert_event

T = 1_800_000_000_000_000


class Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        if cls.fail_first > 0:
            cls.fail_first -= 1
            self.send_response(500)
            self.end_headers()
            return
        cls.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("H", (Recorder,), {"received": [], "fail_first": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, inbox
    ctl.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alert(i: int = 0, severity: str = "WARNING") -> Event:
    return alert_event(
        "error_count",
        "api_ohlcv_error",
        f"api_ohlcv_error: 11 errors in 5 min #{i}",
        severity=severity,
        ts=T + i,
    )


def dispatcher(sinks: list[Any], events: list[Event] | None = None, **kw: Any) -> AlertDispatcher:
    kw.setdefault("retry_wait", 0.0)
    return AlertDispatcher(
        sinks, emit=(events.append if events is not None else lambda e: None), **kw
    )


def test_webhook_receives_the_alert_as_json(http_server: tuple[str, type[Recorder]]) -> None:
    url, handler = http_server
    d = dispatcher([WebhookSink(f"{url}/hook", headers={"X-Token": "tok-abcdef-123"})])
    d.submit(alert(1))
    assert d.flush(10)
    d.close()
    [(path, ctype, body)] = handler.received
    data = json.loads(body)
    assert path == "/hook" and ctype == "application/json"
    assert (data["kind"], data["error_type"], data["name"]) == (
        "alert",
        "error_count",
        "api_ohlcv_error",
    )
    assert d.stats().sent == 1


def test_slack_payload(http_server: tuple[str, type[Recorder]]) -> None:
    url, handler = http_server
    d = dispatcher([SlackSink(f"{url}/services/T000/B000/secretpath")])
    d.submit(alert(2, "CRITICAL"))
    assert d.flush(10)
    d.close()
    payload = json.loads(handler.received[0][2])
    assert list(payload) == ["text"]
    assert payload["text"].startswith(":rotating_light: [CRITICAL] error_count api_ohlcv_error:")


def test_email_sink_delivers(smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    d = dispatcher(
        [EmailSink("127.0.0.1", port, "journal@example.org", ["ops@example.org", "me@example.org"])]
    )
    d.submit(alert(3))
    assert d.flush(10)
    d.close()
    [env] = inbox.messages
    assert env.rcpt_tos == ["ops@example.org", "me@example.org"]
    text = env.content.decode()
    assert "Subject: [journal] WARNING error_count api_ohlcv_error" in text
    assert "rule: error_count" in text and "key: api_ohlcv_error" in text


def test_server_error_is_retried_and_delivered_once(
    http_server: tuple[str, type[Recorder]],
) -> None:
    url, handler = http_server
    handler.fail_first = 2
    events: list[Event] = []
    d = dispatcher([WebhookSink(url)], events, retry_attempts=3)
    d.submit(alert(4))
    assert d.flush(10)
    d.close()
    assert len(handler.received) == 1
    assert d.stats().sent == 1 and d.stats().failed == 0 and events == []


def test_always_failing_sink_reports_once_per_cooldown_and_never_blocks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[Event] = []
    secret_url = f"http://127.0.0.1:{closed_port()}/hook?token=sup3rs3cr3tvalue"
    d = dispatcher(
        [WebhookSink(secret_url, timeout=1)], events, retry_attempts=2, failure_cooldown=300
    )
    worst = 0.0
    with caplog.at_level(logging.ERROR, logger="journal.alerts"):
        for i in range(50):
            t0 = time.perf_counter()
            d.submit(alert(i))
            worst = max(worst, time.perf_counter() - t0)
        assert d.flush(30)
    d.close()
    st = d.stats()
    assert (st.sent, st.failed, st.suppressed_errors) == (0, 50, 49)
    sink_errors = [e for e in events if e.kind == "journal" and e.name == "alert_sink_error"]
    assert len(sink_errors) == 1
    assert sink_errors[0].context["sink"] == "webhook" and sink_errors[0].context["attempts"] == 2
    # submit is an append: it never waits for the sink's retries (2 attempts with waits); the
    # bound is loose for a busy machine, the cost itself is a benchmark figure.
    assert worst < 1.0
    dumped = " ".join(e.to_json() for e in events) + caplog.text
    assert "sup3rs3cr3tvalue" not in dumped


def test_full_queue_drops_and_counts() -> None:
    gate = threading.Event()
    d = dispatcher([CallableSink(lambda a: gate.wait(5), name="slow")], max_queue=3)
    for i in range(10):
        d.submit(alert(i))
    gate.set()
    assert d.flush(10)
    d.close()
    st = d.stats()
    assert st.dropped >= 6 and st.sent + st.dropped == 10


def test_smtp_password_never_logged(
    smtp_server: tuple[int, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    port, _ = smtp_server
    events: list[Event] = []
    sink = EmailSink(
        "127.0.0.1", port, "j@example.org", ["o@example.org"], username="u", password="Pa55word-xyz"
    )
    d = dispatcher([sink], events, retry_attempts=1)  # the test server offers no AUTH: login fails
    with caplog.at_level(logging.ERROR, logger="journal.alerts"):
        d.submit(alert(9))
        assert d.flush(10)
    d.close()
    assert d.stats().failed == 1
    assert "Pa55word-xyz" not in caplog.text + " ".join(e.to_json() for e in events)


def test_concurrent_submits_and_flushes_deliver_every_alert_exactly_once() -> None:
    got: list[str] = []
    d = dispatcher([CallableSink(lambda a: got.append(a.message or ""))])
    rounds, threads, per = 20, 4, 250

    def produce(t: int, r: int) -> None:
        for i in range(per):
            d.submit(alert(r * 100_000 + t * 1_000 + i))

    for r in range(rounds):
        workers = [threading.Thread(target=produce, args=(t, r)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        # flush() returns only once everything submitted so far was delivered
        assert d.flush(30)
        assert len(got) == (r + 1) * threads * per
    d.close()
    assert len(set(got)) == len(got) == rounds * threads * per


def test_a_submit_always_wakes_a_waiting_worker() -> None:
    # The worker's poll is a safety net of one hour here: every delivery below comes from a
    # wake-up by submit. A lost wake-up would leave alerts queued and the wait would time out.
    total = 4 * 2_000
    delivered = threading.Event()
    got: list[int] = []

    def sink(a: Event) -> None:
        got.append(1)
        if len(got) == total:
            delivered.set()

    d = dispatcher([CallableSink(sink)], poll_interval=3600.0)

    def produce(t: int) -> None:
        for i in range(2_000):
            d.submit(alert(t * 10_000 + i))
            if i % 97 == 0:
                time.sleep(0.0005)  # let the worker drain and wait again, often

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert delivered.wait(30), f"{len(got)} of {total} delivered: a wake-up was lost"
    d.close()
