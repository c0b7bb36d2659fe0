"""What the Notifications page shows of a delivery: masked targets, subject, status, retryable."""

from __future__ import annotations

import json

import pytest

from engine.config_model import EmailSpec, NotificationConfig, WebhookSpec
from engine.detect.delivery_view import UNCONFIGURED, channel_targets, delivery_line, mask_url
from engine.storage.models import NotificationDelivery
from tests.conftest import T0


@pytest.mark.parametrize("url, shown", [
    ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/…"),
    ("https://user:pw@example.com:8443/hook?token=abc", "https://***@example.com:8443/…"),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ("http://example.com/", "http://example.com"),
    ("https://example.com?key=s3cret", "https://example.com/…"),
    ("not a url", "***"),
    ("https://[::1", "***"),
    ("", "***"),
])
def test_mask_url_keeps_only_scheme_host_and_port(url, shown):
    assert mask_url(url) == shown


def test_targets_cover_the_live_channels_only():
    config = NotificationConfig(
        webhooks=(WebhookSpec("ops", "all", "https://hooks.example.com/abc/SECRET", "tok"),),
        emails=(EmailSpec("mail", "smtp.example.com", 587, "w@example.com", ("a@example.com", "b@example.com"),
                          password="smtp-pw"),))
    targets = channel_targets(config, ["ops", "mail", "coded"])
    assert targets == {"ops": "webhook https://hooks.example.com/…",
                       "mail": "e-mail a@example.com, b@example.com via smtp.example.com:587",
                       "coded": "(no destination on record)"}
    assert channel_targets(config, []) == {}


def _row(status: str, channel: str = "ops", items=None) -> NotificationDelivery:
    items = items if items is not None else [
        {"alert_id": 3, "service": "api", "metric": "cpu_pct", "severity": "critical", "state": "firing",
         "summary": "cpu", "escalation": False},
        {"alert_id": 4, "service": "db", "metric": "memory_pct", "severity": "warning", "state": "resolved",
         "summary": "mem", "escalation": False}]
    return NotificationDelivery(id=9, channel=channel, status=status, attempts=2, items=json.dumps(items),
                                alert_ids="3,4", created_at=T0, next_attempt_at=T0, last_error="HTTP 500")


@pytest.mark.parametrize("status, shown, waits, retryable", [
    ("queued", "pending", True, False), ("retrying", "retrying", True, False),
    ("sent", "sent", False, False), ("failed", "failed", False, True),
])
def test_delivery_line_status_and_next_attempt(status, shown, waits, retryable):
    line = delivery_line(_row(status), {"ops": "webhook https://x/…"})
    assert (line.status, line.next_attempt_at is not None, line.retryable) == (shown, waits, retryable)
    assert line.alerts == "#3, #4" and line.subject == "[wedscale] critical: 1 firing, 1 resolved"


def test_a_removed_channel_is_shown_and_not_retryable():
    line = delivery_line(_row("failed", channel="gone"), {"ops": "webhook https://x/…"})
    assert line.target == UNCONFIGURED and not line.retryable


def test_unreadable_items_do_not_break_the_page():
    assert delivery_line(_row("sent", items=[{"oops": 1}]), {}).subject == "(unreadable notification items)"
    assert delivery_line(_row("sent", items=[]), {}).subject == "(empty group)"
