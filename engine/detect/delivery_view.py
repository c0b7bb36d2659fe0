"""What an admin sees of the notification outbox: one plain row per delivery, secrets masked.

Pure functions over stored rows and the channel configuration, so the page and the tests read
the same values. A channel's destination is a secret more often than not (a Slack or Teams
webhook URL *is* the credential, and URLs may carry ``user:password@`` or ``?token=``), so a
webhook is shown by scheme, host and port only; an e-mail channel by its recipients and SMTP
server (addresses are not secrets; the SMTP password is never shown).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable
from urllib.parse import urlsplit

from engine.config_model import NotificationConfig
from engine.detect.channels import compose
from engine.detect.outbox import FAILED, QUEUED, RETRYING
from engine.storage.models import NotificationDelivery

# The outbox stores "queued"; people call a message that has not gone out yet "pending".
STATUS_LABELS = {QUEUED: "pending"}
UNCONFIGURED = "(channel no longer configured)"


@dataclass(frozen=True)
class DeliveryLine:
    """One delivery as the admin page shows it (times are aware UTC datetimes or None)."""

    id: int
    created_at: datetime
    channel: str
    target: str
    alerts: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    retryable: bool


def mask_url(url: str) -> str:
    """Return ``scheme://host[:port]/…``: no user info, path, query or fragment.

    An unparsable URL is shown as ``***`` rather than risk echoing a secret.
    """
    try:
        parts = urlsplit(url or "")
        host, port = parts.hostname, parts.port
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    shown = f"{parts.scheme}://{'***@' if parts.username or parts.password else ''}{host}"
    shown += f":{port}" if port else ""
    hidden = parts.path.strip("/") or parts.query or parts.fragment
    return shown + ("/…" if hidden else "")


def channel_targets(config: NotificationConfig, live: Iterable[str]) -> dict[str, str]:
    """Return ``channel name -> masked destination`` for every channel the outbox has (``live``).

    A live channel missing from ``config`` (one built in code, as tests do) is listed with
    no destination; a configured name the outbox does not have is left out, so "in the map"
    means "a retry can reach it".
    """
    described = {w.name: f"webhook {mask_url(w.url)}" for w in config.webhooks}
    described.update({e.name: f"e-mail {', '.join(e.recipients)} via {e.host}:{e.port}" for e in config.emails})
    return {name: described.get(name, "(no destination on record)") for name in live}


def _subject(items_json: str) -> tuple[str, str]:
    try:
        items = json.loads(items_json or "[]")
        if not items:
            return "", "(empty group)"
        alerts = ", ".join(f"#{i}" for i in dict.fromkeys(str(i["alert_id"]) for i in items))
        return alerts, compose(items).subject
    except (ValueError, KeyError, TypeError):
        return "", "(unreadable notification items)"


def delivery_line(row: NotificationDelivery, targets: dict[str, str]) -> DeliveryLine:
    """Return the page's view of one stored delivery; ``targets`` from ``channel_targets``.

    ``next_attempt_at`` is None once the delivery is settled (sent or failed); a failed one
    is ``retryable`` only while its channel still exists.
    """
    alerts, subject = _subject(row.items)
    waiting = row.status in (QUEUED, RETRYING)
    return DeliveryLine(
        id=row.id, created_at=row.created_at, channel=row.channel,
        target=targets.get(row.channel, UNCONFIGURED), alerts=alerts, subject=subject,
        status=STATUS_LABELS.get(row.status, row.status), attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if waiting else None, last_error=row.last_error or "",
        retryable=row.status == FAILED and row.channel in targets)
