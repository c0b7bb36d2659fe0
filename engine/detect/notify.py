"""Where alert notifications go. Each channel is a ``Notifier``; the log channel is built in."""

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
