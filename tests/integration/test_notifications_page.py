"""The Notifications page through the real Flask app: the deliveries grid with its status
filter and masked targets, and "retry" of a failed delivery (audited, admins only)."""

from __future__ import annotations

import pytest

from engine.bootstrap import build_engine
from engine.config_model import NotificationConfig, WebhookSpec
from engine.detect.notify import Notification
from engine.security.permissions import Role
from engine.storage.models import AuditEntry, NotificationDelivery
from tests.callbacks import answer, post_callback
from tests.fakes import RecordingChannel

SECRET_URL = "https://bot:pa55word@hooks.example.com/services/T0KEN-s3cret?sig=abc123"
SHOW = ("deliveries-grid.rowData", "deliveries-summary.children")
RETRY = ("deliveries-feedback.children", "deliveries-grid.rowData", "deliveries-summary.children")


@pytest.fixture
def channel():
    """The "ops" channel: it fails its first four attempts (all of them), then accepts."""
    return RecordingChannel("ops", "all", failures=4)


@pytest.fixture
def engine(settings, clock, channel):
    """An engine whose outbox has the ops channel, configured with a secret-bearing URL."""
    notifications = NotificationConfig(webhooks=(WebhookSpec("ops", "all", SECRET_URL, "tok-XYZ"),),
                                       group_window_s=30.0, backoff_base_s=10.0, max_attempts=4)
    settings = settings.with_(config=settings.config.__class__(notifications=notifications))
    built = build_engine(settings, clock=clock, channels=[channel], notifiers=[])
    yield built
    built.db.dispose()


def _queue(engine, clock, alert_id: int) -> None:
    with engine.db.session() as session:
        engine.outbox.enqueue(session, [Notification(alert_id, "api", "cpu_pct", "critical", "firing",
                                                     f"cpu high {alert_id}")], clock.now())


def _fail_first_delivery(engine, clock) -> None:
    """Drive delivery #1 through its four failed attempts on the manual clock."""
    _queue(engine, clock, 7)
    for wait_s in (31, 11, 21, 41):
        clock.advance(seconds=wait_s)
        engine.deliver_notifications()


def _statuses(engine) -> dict[int, str]:
    with engine.db.session() as session:
        return {d.id: d.status for d in session.query(NotificationDelivery)}


def test_grid_lists_deliveries_filters_by_status_and_hides_the_secret(app, login_as, engine, clock):
    _fail_first_delivery(engine, clock)
    clock.advance(minutes=5)
    _queue(engine, clock, 8)                                    # delivery 2: still collecting
    admin = login_as(Role.SCALABILITY_ADMIN)
    page = admin.get("/notifications")
    assert page.status_code == 200

    everything = answer(post_callback(app, admin, SHOW, "deliveries-status.value",
                                      {"deliveries-status.value": "all"}))
    rows = everything["deliveries-grid.rowData"]
    assert [(r["id"], r["status"]) for r in rows] == [(2, "pending"), (1, "failed")]
    failed = rows[1]
    assert failed["channel"] == "ops" and failed["attempts"] == 4 and failed["error"] == "HTTP 503"
    assert failed["target"] == "webhook https://***@hooks.example.com/…"
    assert failed["subject"].startswith("#7 · [wedscale] critical: api/cpu_pct firing")
    assert failed["next_at"] == "–" and rows[0]["next_at"] != "–"    # only a waiting delivery has a next attempt
    assert "1 failed" in str(everything["deliveries-summary.children"])

    only_failed = answer(post_callback(app, admin, SHOW, "deliveries-status.value",
                                       {"deliveries-status.value": "failed"}))
    assert [r["id"] for r in only_failed["deliveries-grid.rowData"]] == [1]
    pending = answer(post_callback(app, admin, SHOW, "deliveries-status.value",
                                   {"deliveries-status.value": "pending"}))
    assert [r["id"] for r in pending["deliveries-grid.rowData"]] == [2]
    for text in (everything, only_failed):
        shown = str(text)
        assert "T0KEN" not in shown and "pa55word" not in shown and "abc123" not in shown and "tok-XYZ" not in shown


def test_an_unknown_status_filter_is_a_400(app, login_as):
    admin = login_as(Role.SCALABILITY_ADMIN)
    response = post_callback(app, admin, SHOW, "deliveries-status.value", {"deliveries-status.value": "lost"})
    assert response.status_code == 400


def test_retry_makes_a_failed_delivery_due_and_the_job_sends_it(app, login_as, engine, clock, channel):
    _fail_first_delivery(engine, clock)
    admin = login_as(Role.SCALABILITY_ADMIN)
    out = answer(post_callback(app, admin, RETRY, "deliveries-retry.n_clicks",
                               {"deliveries-retry.n_clicks": 1, "deliveries-grid.selectedRows": [{"id": 1}],
                                "deliveries-status.value": "all"}))
    assert out["deliveries-feedback.children"]["props"]["id"] == "deliveries-ok"
    assert out["deliveries-grid.rowData"][0]["status"] == "retrying"
    with engine.db.session() as session:
        audit = session.query(AuditEntry).filter_by(action="notification.retry").one()
        assert (audit.actor, audit.outcome, audit.target) == ("admin", "ok", "delivery:1 ops")
        assert session.get(NotificationDelivery, 1).next_attempt_at == clock.now()

    engine.deliver_notifications()                              # the leader's next run, same instant
    assert _statuses(engine) == {1: "sent"} and len(channel.messages) == 1


@pytest.mark.parametrize("selected, expected", [
    (None, "Select a failed delivery"),
    ([{"id": 99}], "no notification delivery #99"),
    ([{"id": 2}], "only failed deliveries can be retried"),
])
def test_retry_refuses_what_it_cannot_retry_and_audits_nothing(app, login_as, engine, clock, selected, expected):
    _fail_first_delivery(engine, clock)
    _queue(engine, clock, 8)
    admin = login_as(Role.SCALABILITY_ADMIN)
    out = answer(post_callback(app, admin, RETRY, "deliveries-retry.n_clicks",
                               {"deliveries-retry.n_clicks": 1, "deliveries-grid.selectedRows": selected}))
    feedback = out["deliveries-feedback.children"]["props"]
    assert feedback["id"] == "deliveries-error" and expected in feedback["children"]
    assert _statuses(engine) == {1: "failed", 2: "queued"}
    with engine.db.session() as session:
        assert session.query(AuditEntry).filter_by(action="notification.retry").count() == 0


def test_a_forged_selection_is_a_400_not_a_500(app, login_as, engine, clock):
    admin = login_as(Role.SCALABILITY_ADMIN)
    response = post_callback(app, admin, RETRY, "deliveries-retry.n_clicks",
                             {"deliveries-retry.n_clicks": 1, "deliveries-grid.selectedRows": [{"id": "x"}]})
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.SCALABILITY_VIEWER, Role.WEDDING_COORDINATOR, Role.SCALABILITY_OPERATOR])
def test_non_admins_get_403_for_the_page_and_both_callbacks(app, login_as, engine, clock, role):
    _fail_first_delivery(engine, clock)
    client = login_as(role)
    assert client.get("/notifications").status_code == 403
    assert post_callback(app, client, SHOW, "deliveries-status.value",
                         {"deliveries-status.value": "all"}).status_code == 403
    response = post_callback(app, client, RETRY, "deliveries-retry.n_clicks",
                             {"deliveries-retry.n_clicks": 1, "deliveries-grid.selectedRows": [{"id": 1}]})
    assert response.status_code == 403
    assert _statuses(engine) == {1: "failed"}
    with engine.db.session() as session:
        denied = session.query(AuditEntry).filter_by(action="access.denied", target="/_dash-update-component")
        assert denied.count() == 2
