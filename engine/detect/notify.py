"""Where alert notifications go, at once: the log channel is a ``Notifier``.

External channels (webhook, e-mail) are not called from the alert evaluation: the
notifications are queued in the outbox (``engine.detect.outbox``) and delivered, grouped and
retried, by a leader job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("wedscale.alerts")


@dataclass(frozen=True)
class Notification:
    """An alert change worth telling people about."""

    alert_id: int
    service: str
    metric: str
    severity: str
    state: str
    summary: str
    escalation: bool = False

    def as_item(self) -> dict:
        """Return the notification as a JSON-ready dict (the outbox stores and sends these)."""
        return {"alert_id": self.alert_id, "service": self.service, "metric": self.metric,
                "severity": self.severity, "state": self.state, "summary": self.summary,
                "escalation": self.escalation}


class Notifier(Protocol):
    """A notification channel."""

    def send(self, notifications: list[Notification]) -> None:
        """Deliver a group of notifications; must not raise (log and drop on failure)."""
        ...


class LogNotifier:
    """Writes notifications to the application log (always on)."""

    def send(self, notifications: list[Notification]) -> None:
        for n in notifications:
            log.warning("alert %s %s/%s %s: %s", n.state, n.service, n.metric, n.severity, n.summary)


class RecordingNotifier:
    """Keeps what it was sent, for tests and the drills page."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notifications: list[Notification]) -> None:
        self.sent.extend(notifications)
