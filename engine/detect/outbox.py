"""The notification outbox: grouped, retried, recorded deliveries to the external channels.

The alert evaluation only *queues* notifications (in its own transaction, so a rolled-back
evaluation sends nothing); the leader job ``deliver_notifications`` sends them. Rules:

- **Routing**: critical notifications and escalations go to every channel; warnings only to
  channels of level ``all``.
- **Grouping**: a notification joins the queued message of its channel while that message is
  still collecting (for ``group_window_s`` after its first notification); else it opens a new
  one. Alerts firing together arrive as one message.
- **Escalation**: an alert still ``firing`` (not acknowledged, not silenced)
  ``escalate_after_minutes`` after it fired is escalated once: to every channel, marked on the
  alert (``escalated_at``) and audited.
- **Retries**: a failed attempt is retried after ``backoff_base_s × 2^(attempt − 1)`` (at most
  ``backoff_max_s``), on the engine clock; after ``max_attempts`` the message is ``failed``.
  Delivery is at least once: a leader that dies between sending and recording sends again.

Sending happens outside any database transaction, so a slow channel never holds a lock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config_model import NotificationConfig
from engine.detect.channels import Channel, DeliveryError, compose
from engine.detect.notify import Notification
from engine.errors import Conflict, NotFound
from engine.security.audit import SYSTEM, Actor, AuditLog
from engine.storage.models import AlertRow, NotificationDelivery

log = logging.getLogger("wedscale.alerts")

QUEUED, RETRYING, SENT, FAILED = "queued", "retrying", "sent", "failed"
STATUSES = (QUEUED, RETRYING, SENT, FAILED)
_BATCH = 50


def routes_to(notification: Notification, level: str) -> bool:
    """True when a channel of ``level`` receives ``notification`` (see the module rules)."""
    return level == "all" or notification.severity == "critical" or notification.escalation


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1, 2, ...): doubling, capped."""
    return min(max_s, base_s * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class _Due:
    id: int
    channel: str
    attempts: int
    items: list


class NotificationOutbox:
    """Queues notifications per channel and delivers them (see the module notes).

    Parameters
    ----------
    channels : sequence of Channel
        The configured external channels (may be empty: then nothing is queued).
    config : NotificationConfig
        Grouping window, escalation delay, retry bounds.
    audit : AuditLog
        Records escalations.
    """

    def __init__(self, channels: Sequence[Channel], config: NotificationConfig, audit: AuditLog):
        self.channels = {c.name: c for c in channels}
        self.config = config
        self.audit = audit

    # --- queueing (inside the caller's transaction) -------------------------------------
    def enqueue(self, session: Session, notifications: Sequence[Notification], now: datetime) -> int:
        """Add ``notifications`` to each receiving channel's open group; return messages touched."""
        touched = 0
        for name, channel in self.channels.items():
            items = [n.as_item() for n in notifications if routes_to(n, channel.level)]
            if items:
                self._add_to_group(session, name, items, now)
                touched += 1
        return touched

    def _add_to_group(self, session: Session, channel: str, items: list[dict], now: datetime) -> None:
        row = session.execute(
            select(NotificationDelivery).where(NotificationDelivery.channel == channel,
                                               NotificationDelivery.status == QUEUED,
                                               NotificationDelivery.attempts == 0,
                                               NotificationDelivery.next_attempt_at > now)
            .order_by(NotificationDelivery.id.desc()).limit(1)).scalar_one_or_none()
        if row is None:
            row = NotificationDelivery(channel=channel, status=QUEUED, attempts=0, items="[]", alert_ids="",
                                       created_at=now, last_error="",
                                       next_attempt_at=now + timedelta(seconds=self.config.group_window_s))
            session.add(row)
        grouped = json.loads(row.items) + items
        row.items = json.dumps(grouped)
        row.alert_ids = ",".join(dict.fromkeys(str(i["alert_id"]) for i in grouped))
        session.flush()

    def escalate(self, session: Session, now: datetime) -> list[int]:
        """Escalate firing alerts nobody acknowledged in time; return their ids."""
        cutoff = now - timedelta(minutes=self.config.escalate_after_minutes)
        rows = session.execute(select(AlertRow).where(AlertRow.state == "firing",
                                                      AlertRow.escalated_at.is_(None),
                                                      AlertRow.fired_at <= cutoff)).scalars().all()
        if not rows:
            return []
        for row in rows:
            row.escalated_at = now
            self.audit.record(session, now=now, actor=SYSTEM, action="alert.escalated", outcome="ok",
                              target=f"alert:{row.id} {row.service}/{row.metric}",
                              reason=f"unacknowledged {self.config.escalate_after_minutes:g} min after firing",
                              details={"severity": row.severity, "channels": sorted(self.channels)})
            log.warning("alert escalated %s/%s %s: %s", row.service, row.metric, row.severity, row.summary)
        self.enqueue(session, [Notification(r.id, r.service, r.metric, r.severity, r.state, r.summary,
                                            escalation=True) for r in rows], now)
        return [r.id for r in rows]

    # --- delivery (the leader job) ------------------------------------------------------
    def deliver_due(self, db, now: datetime) -> dict[str, int]:
        """Escalate, then attempt every message due at ``now``; return counts by outcome."""
        with db.session() as session:
            self.escalate(session, now)
            due = [_Due(r.id, r.channel, r.attempts, json.loads(r.items)) for r in session.execute(
                select(NotificationDelivery).where(NotificationDelivery.status.in_((QUEUED, RETRYING)),
                                                   NotificationDelivery.next_attempt_at <= now)
                .order_by(NotificationDelivery.id).limit(_BATCH)).scalars()]
        outcomes = [(d, self._attempt(d)) for d in due]   # no transaction open while sending
        counts = {SENT: 0, RETRYING: 0, FAILED: 0}
        with db.session() as session:
            for d, error in outcomes:
                counts[self._record(session.get(NotificationDelivery, d.id), error, now)] += 1
        return counts

    def _attempt(self, due: _Due) -> str | None:
        channel = self.channels.get(due.channel)
        if channel is None:
            return f"channel {due.channel!r} is no longer configured"
        try:
            channel.deliver(compose(due.items))
        except DeliveryError as exc:
            return str(exc) or "delivery failed"
        except Exception as exc:  # noqa: BLE001 — a channel bug must not stop the others
            log.exception("channel %s raised", due.channel)
            return f"{type(exc).__name__} in the channel"
        return None

    def _record(self, row: NotificationDelivery, error: str | None, now: datetime) -> str:
        row.attempts += 1
        row.last_attempt_at = now
        if error is None:
            row.status, row.sent_at = SENT, now
            return SENT
        row.last_error = error
        if row.attempts >= self.config.max_attempts or error.endswith("no longer configured"):
            row.status = FAILED
            log.error("notification %s to %s failed after %d attempts: %s", row.id, row.channel,
                      row.attempts, error)
            return FAILED
        row.status = RETRYING
        row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts, self.config.backoff_base_s,
                                                                self.config.backoff_max_s))
        return RETRYING

    def retry_now(self, session: Session, delivery_id: int, actor: Actor, now: datetime) -> NotificationDelivery:
        """Make a ``failed`` delivery due again at ``now`` for one more attempt; audited.

        The next ``deliver_notifications`` run (every few seconds, on the leader) sends it:
        the web worker that takes the request never talks to a channel itself. The attempt
        counter is kept, so a retry that fails again is ``failed`` again at once rather than
        starting a new series of backoffs. Raises NotFound for an unknown id, Conflict when
        the delivery is not ``failed`` or its channel is no longer configured.
        """
        row = session.get(NotificationDelivery, delivery_id)
        if row is None:
            raise NotFound(f"no notification delivery #{delivery_id}")
        if row.status != FAILED:
            raise Conflict(f"delivery #{delivery_id} is {row.status}, not failed: only failed deliveries "
                           f"can be retried")
        if row.channel not in self.channels:
            raise Conflict(f"channel {row.channel!r} is no longer configured: a retry would fail again")
        row.status, row.next_attempt_at = RETRYING, now
        self.audit.record(session, now=now, actor=actor, action="notification.retry", outcome="ok",
                          target=f"delivery:{row.id} {row.channel}",
                          details={"attempts": row.attempts, "last_error": row.last_error[:200]})
        return row

    @staticmethod
    def counts(session: Session) -> dict[str, int]:
        """Return how many deliveries are in each status (every status present, zeros too)."""
        found = dict(session.execute(select(NotificationDelivery.status, func.count())
                                     .group_by(NotificationDelivery.status)).all())
        return {status: found.get(status, 0) for status in STATUSES}

    @staticmethod
    def recent(session: Session, limit: int = 100, status: str | None = None) -> list[NotificationDelivery]:
        """Return the newest deliveries, newest first, optionally only those in ``status``."""
        query = select(NotificationDelivery)
        if status is not None:
            query = query.where(NotificationDelivery.status == status)
        return list(session.execute(query.order_by(NotificationDelivery.id.desc()).limit(limit)).scalars())
