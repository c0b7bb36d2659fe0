"""Notification outbox: grouping, routing, escalation and retries on the engine clock,
against a real local HTTP server (webhook) and a real local SMTP sink (aiosmtpd)."""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.bootstrap import build_engine
from engine.config_model import EmailSpec, NotificationConfig, WebhookSpec
from engine.detect.channels import EmailChannel, WebhookChannel
from engine.detect.notify import Notification
from engine.detect.outbox import NotificationOutbox, backoff_s, routes_to
from engine.storage.models import AlertRow, AuditEntry, NotificationDelivery
from tests.conftest import TEST_ACTOR
from tests.fakes import RecordingChannel

SECRET_PATH = "/hooks/T0KEN-s3cret-path"


def _note(alert_id: int, severity: str = "critical", **kw) -> Notification:
    return Notification(alert_id, "api", "cpu_pct", severity, "firing", f"alert {alert_id}", **kw)


def _engine(settings, clock, channels, **config):
    notifications = NotificationConfig(**{"group_window_s": 30.0, "backoff_base_s": 10.0,
                                          "max_attempts": 4, **config})
    settings = settings.with_(config=settings.config.__class__(notifications=notifications))
    return build_engine(settings, clock=clock, channels=channels, notifiers=[])


def _deliveries(engine) -> list[NotificationDelivery]:
    with engine.db.session() as session:
        return list(session.query(NotificationDelivery).order_by(NotificationDelivery.id))


# --- pure rules --------------------------------------------------------------------------
@pytest.mark.parametrize("severity, escalation, level, expected", [
    ("warning", False, "all", True),
    ("warning", False, "critical", False),
    ("critical", False, "critical", True),
    ("warning", True, "critical", True),
])
def test_routing(severity, escalation, level, expected):
    assert routes_to(_note(1, severity, escalation=escalation), level) is expected


@pytest.mark.parametrize("attempts, expected", [(1, 10), (2, 20), (3, 40), (4, 80), (9, 300)])
def test_backoff_doubles_up_to_a_cap(attempts, expected):
    assert backoff_s(attempts, 10, 300) == expected


# --- the outbox on the engine clock --------------------------------------------------------
def test_alerts_in_one_window_are_one_message_per_channel(settings, clock):
    ops, pager = RecordingChannel("ops", "all"), RecordingChannel("pager", "critical")
    engine = _engine(settings, clock, [ops, pager])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1, "warning")], clock.now())
    clock.advance(seconds=10)
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(2, "critical")], clock.now())
    engine.deliver_notifications()
    assert ops.messages == [] and pager.messages == []  # still collecting its group
    clock.advance(seconds=25)
    engine.deliver_notifications()
    assert [[i["alert_id"] for i in m.items] for m in ops.messages] == [[1, 2]]
    assert pager.messages == []  # its window opened with alert 2, 10 s later
    clock.advance(seconds=5)
    engine.deliver_notifications()
    assert [[i["alert_id"] for i in m.items] for m in pager.messages] == [[2]]  # no warnings
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(3)], clock.now())  # a new window, a new message
    clock.advance(seconds=30)
    engine.deliver_notifications()
    assert [[i["alert_id"] for i in m.items] for m in ops.messages] == [[1, 2], [3]]
    assert {d.status for d in _deliveries(engine)} == {"sent"}


def test_retries_back_off_on_the_clock_then_give_up(settings, clock):
    flaky = RecordingChannel("ops", failures=99)
    engine = _engine(settings, clock, [flaky])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1)], clock.now())
    waits = []
    clock.advance(seconds=30)
    for _ in range(4):
        engine.deliver_notifications()
        row = _deliveries(engine)[0]
        if row.status == "failed":
            break
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.advance(seconds=waits[-1] - 1)
        engine.deliver_notifications()  # one second early: no attempt
        assert _deliveries(engine)[0].attempts == row.attempts
        clock.advance(seconds=1)
    row = _deliveries(engine)[0]
    assert waits == [10, 20, 40]
    assert (row.status, row.attempts, row.last_error) == ("failed", 4, "HTTP 503")


def test_unacknowledged_alert_escalates_once_to_every_channel(clock, settings):
    ops, pager = RecordingChannel("ops", "all"), RecordingChannel("pager", "critical")
    engine = _engine(settings, clock, [ops, pager], escalate_after_minutes=15)
    with engine.db.session() as session:
        row = AlertRow(service="api", metric="memory_pct", severity="warning", state="firing",
                       summary="api memory_pct 92", started_at=clock.now(), fired_at=clock.now(),
                       updated_at=clock.now(), note="")
        acked = AlertRow(service="database", metric="cpu_pct", severity="warning", state="firing",
                         summary="database cpu", started_at=clock.now(), fired_at=clock.now(),
                         updated_at=clock.now(), note="")
        session.add_all([row, acked])
        session.flush()
        engine.alerts.acknowledge(session, acked.id, TEST_ACTOR, "on it", clock.now())
    clock.advance(minutes=14)
    engine.deliver_notifications()
    assert not pager.messages
    clock.advance(minutes=1)
    engine.deliver_notifications()
    clock.advance(seconds=30)
    engine.deliver_notifications()
    clock.advance(minutes=30)
    engine.deliver_notifications()
    for channel in (ops, pager):  # a warning, yet escalations reach every channel, once
        assert [[(i["alert_id"], i["escalation"]) for i in m.items] for m in channel.messages] == [[(row.id, True)]]
        assert "ESCALATED" in channel.messages[0].subject
    with engine.db.session() as session:
        assert session.get(AlertRow, row.id).escalated_at is not None
        assert session.get(AlertRow, acked.id).escalated_at is None
        assert session.query(AuditEntry).filter_by(action="alert.escalated").count() == 1


def test_evaluation_queues_firing_alerts_for_the_channels(settings, clock):
    ops = RecordingChannel("ops", "all")
    engine = _engine(settings, clock, [ops])
    engine.size_simulated_cluster()
    engine.source.inject_incident("latency_spike", "api", clock.now(), 3600)
    engine.source.inject_incident("error_burst", "api", clock.now(), 3600)
    for _ in range(3):
        clock.advance(seconds=5)
        engine.collect_metrics()
        engine.evaluate_alerts()
    clock.advance(seconds=30)
    engine.deliver_notifications()
    assert len(ops.messages) == 1  # both critical alerts in one message
    assert {(i["metric"], i["state"]) for i in ops.messages[0].items} >= {
        ("latency_p95_ms", "firing"), ("error_rate_pct", "firing")}


# --- real transports -------------------------------------------------------------------------
class _FlakyHook(BaseHTTPRequestHandler):
    fail_first = 2
    received: list = []

    def do_POST(self):  # noqa: N802 — http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, self.headers.get("Authorization"), body))
        status = 500 if len(type(self).received) <= type(self).fail_first else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    handler = type("Hook", (_FlakyHook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_webhook_is_retried_until_the_server_accepts(settings, clock, hook_server):
    server, handler = hook_server
    url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    hook = WebhookChannel(WebhookSpec("ops", "all", url, token="tok-123"), timeout_s=5)
    engine = _engine(settings, clock, [hook])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1), _note(2)], clock.now())
    clock.advance(seconds=30)
    engine.deliver_notifications()                      # attempt 1: 500
    row = _deliveries(engine)[0]
    assert (row.status, row.attempts, row.last_error) == ("retrying", 1, "HTTP 500")
    engine.deliver_notifications()                      # not due yet: nothing sent
    assert len(handler.received) == 1
    clock.advance(seconds=10)
    engine.deliver_notifications()                      # attempt 2: 500
    clock.advance(seconds=20)
    engine.deliver_notifications()                      # attempt 3: 204
    row = _deliveries(engine)[0]
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(handler.received) == 3
    path, auth, body = handler.received[-1]
    assert path == SECRET_PATH and auth == "Bearer tok-123"
    assert [a["alert_id"] for a in body["alerts"]] == [1, 2] and body["source"] == "wedscale"


def test_webhook_url_credentials_are_sent_as_basic_auth(settings, clock, hook_server):
    server, handler = hook_server
    handler.fail_first = 0
    url = f"http://hooks%40ops:pa%3Ass@127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    engine = _engine(settings, clock, [WebhookChannel(WebhookSpec("ops", "all", url), timeout_s=5)])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1)], clock.now())
    clock.advance(seconds=30)
    engine.deliver_notifications()
    assert _deliveries(engine)[0].status == "sent"
    path, auth, _body = handler.received[-1]
    assert path == SECRET_PATH
    assert auth == "Basic " + base64.b64encode(b"hooks@ops:pa:ss").decode()


def test_webhook_errors_are_stored_without_the_secret_url(settings, clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = WebhookChannel(WebhookSpec("ops", "all", f"http://127.0.0.1:{port}{SECRET_PATH}"), timeout_s=2)
    engine = _engine(settings, clock, [hook], max_attempts=1)
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1)], clock.now())
    clock.advance(seconds=30)
    engine.deliver_notifications()
    row = _deliveries(engine)[0]
    assert row.status == "failed" and row.last_error
    assert "s3cret" not in row.last_error and "T0KEN" not in row.last_error
    assert "s3cret" not in repr(hook)


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    class Sink(MessageHandler):
        def __init__(self):
            super().__init__()
            self.mails = []

        def handle_message(self, message):
            self.mails.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def test_email_is_delivered_through_a_real_smtp_server(settings, clock, smtp_sink):
    sink, port = smtp_sink
    mail = EmailChannel(EmailSpec("on-call", "127.0.0.1", port, "wedscale@example.com",
                                  ("oncall@example.com", "lead@example.com"), level="all"), timeout_s=5)
    engine = _engine(settings, clock, [mail])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(7), _note(8, "warning")], clock.now())
    clock.advance(seconds=30)
    assert engine.deliver_notifications()["sent"] == 1
    assert len(sink.mails) == 1
    message = sink.mails[0]
    assert message["To"] == "oncall@example.com, lead@example.com"
    assert message["Subject"].startswith("[wedscale] critical")
    body = message.get_payload(decode=True).decode()
    assert "alert 7" in body and "alert 8" in body
    assert _deliveries(engine)[0].status == "sent"


def test_email_to_a_dead_server_is_retried(settings, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail = EmailChannel(EmailSpec("on-call", "127.0.0.1", port, "w@example.com", ("o@example.com",),
                                  password="hunter2-smtp"), timeout_s=2)
    engine = _engine(settings, clock, [mail])
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [_note(1)], clock.now())
    clock.advance(seconds=30)
    engine.deliver_notifications()
    row = _deliveries(engine)[0]
    assert row.status == "retrying" and "hunter2" not in row.last_error and "hunter2" not in repr(mail)
