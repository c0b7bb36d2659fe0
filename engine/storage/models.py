"""SQLAlchemy models: users, sessions, tokens, audit chain, weddings, decisions, scale orders and pins,
job runs, backups.

The schema is owned by Alembic (``engine/storage/migrations``); these classes are the
single description both the migrations and the repositories use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.storage.types import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every Wedscale table."""


class User(Base):
    """A person (or script owner) who signs in; ``role`` is a ``Role`` value."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped by a role change or disable: every session carrying an older version ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserSession(Base):
    """A server-side record of one signed-in browser session, so logout can revoke it."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginAttempt(Base):
    """One sign-in attempt, kept to lock a user after repeated failures."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_user_ts", "username", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated permission values; empty = all of the user's permissions.
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """One row of the tamper-evident audit log (HMAC hash chain)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(32))
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """The newest audit (id, hash), written in the same transaction as the row."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class WeddingRow(Base):
    """A wedding on the calendar (times in UTC; ``timezone`` is the venue's zone)."""

    __tablename__ = "weddings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    ceremony_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reception_start: Mapped[datetime] = mapped_column(UTCDateTime)
    reception_end: Mapped[datetime] = mapped_column(UTCDateTime)
    guest_count: Mapped[int] = mapped_column(Integer)
    services: Mapped[str] = mapped_column(Text, default="")
    vendors: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """A scaling decision as recorded: who or what proposed it, why, and what happened."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    from_instances: Mapped[int] = mapped_column(Integer)
    to_instances: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    inputs: Mapped[str] = mapped_column(Text, default="{}")
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    cost_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    rollback_to: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class JobRun(Base):
    """One run of a scheduled engine job, for health and for the no-double-run check.

    ``slot`` is the job's interval slot (``floor(epoch seconds / interval)``); the unique
    index on ``(job, slot)`` lets one run claim a slot, so two leaders overlapping during a
    handover never both run a job in the same interval.
    """

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),
                      Index("ux_job_runs_job_slot", "job", "slot", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    worker: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    slot: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class HealthEvent(Base):
    """A change of the overall health state (the history on the Health page)."""

    __tablename__ = "health_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")


class AlertRow(Base):
    """An alert: one per (service, metric) while open; its history is in ``alert_events``."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once the alert was escalated to every channel for staying unacknowledged.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AlertEvent(Base):
    """One transition of an alert: when, from which state to which, by whom, why."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class BreakGlassGrant(Base):
    """Emergency rights an operator took for a bounded time, with a written reason."""

    __tablename__ = "breakglass_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NotificationDelivery(Base):
    """One message to one channel: a group of alert notifications, its attempts and outcome.

    ``status``: ``queued`` (collecting its group until ``next_attempt_at``), ``retrying``,
    ``sent`` or ``failed`` (attempts exhausted). ``items`` is the JSON list of notifications;
    ``last_error`` never holds a secret (channels redact them).
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[str] = mapped_column(Text)
    alert_ids: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class MetricRollup(Base):
    """A completed 1-minute or 1-hour rollup bucket of one series, so a restart keeps history."""

    __tablename__ = "metric_rollups"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    p95: Mapped[float] = mapped_column(Float)


class ScaleOrderRow(Base):
    """One order sent (or to be sent) to the actuator, recorded before it is sent.

    ``status``: ``recorded`` (intent stored, not yet accepted), ``accepted`` (the actuator
    took it; waiting for the new size), ``done`` (size verified), ``failed`` (gave up; a
    rollback order follows for ``kind == "scale"``), ``superseded`` (a newer order for the
    same service replaced it).
    """

    __tablename__ = "scale_orders"
    __table_args__ = (Index("ix_scale_orders_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(80), unique=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True, index=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="scale")
    target: Mapped[int] = mapped_column(Integer)
    rollback_to: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class ScalePinRow(Base):
    """A manual size held for a while: the autoscaler leaves the service alone until then."""

    __tablename__ = "scale_pins"

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    pinned_until: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AccessWindowRow(Base):
    """A time window in which a role or a user may use the console (time-restricted access)."""

    __tablename__ = "access_windows"
    __table_args__ = (Index("ix_access_windows_subject", "subject_kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))   # "role" or "user"
    subject: Mapped[str] = mapped_column(String(64))       # a Role value or a user name
    days: Mapped[str] = mapped_column(String(16))          # weekday numbers, "0,1,2,3,4,5"
    start_time: Mapped[str] = mapped_column(String(5))     # local "HH:MM"
    end_time: Mapped[str] = mapped_column(String(5))       # local "HH:MM" ("24:00" = midnight)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class BackupRow(Base):
    """The manifest of one backup file: where it is, its checksum, what it held, how it verified.

    Row counts and the audit head are taken from the same snapshot the file was written
    from, so a verification can compare them exactly with the restored copy.
    """

    __tablename__ = "backups"
    __table_args__ = (Index("ix_backups_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # scheduled | manual | pre-wedding | pre-restore
    kind: Mapped[str] = mapped_column(String(16))
    dialect: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # JSON object: table name -> row count in the snapshot.
    row_counts: Mapped[str] = mapped_column(Text, default="{}")
    audit_last_id: Mapped[int] = mapped_column(Integer, default=0)
    audit_last_hash: Mapped[str] = mapped_column(String(64), default="")
    dump_s: Mapped[float] = mapped_column(Float, default=0.0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verify_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    verify_detail: Mapped[str] = mapped_column(Text, default="")
    # Measured time to restore this file into a scratch database: the recovery-time figure.
    restore_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class ForecastModelRow(Base):
    """One trained forecaster (a model version): which service and metric, on what history.

    ``blob`` is the pickled fitted model, signed with a key derived from the secret key
    (``signature``), so a row written by someone with only database access is never loaded.
    """

    __tablename__ = "forecast_models"
    __table_args__ = (Index("ix_forecast_models_service_metric", "service", "metric", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history_start: Mapped[datetime] = mapped_column(UTCDateTime)
    history_end: Mapped[datetime] = mapped_column(UTCDateTime)
    n_hours: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text, default="{}")
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[str] = mapped_column(String(64))


class ForecastRow(Base):
    """A stored forecast (a prediction): its request, result, model versions and accuracy.

    ``payload`` is the JSON answer of the predictions API; ``accuracy`` (JSON, per service
    MAPE and p10–p90 coverage) is filled once every forecast hour has an actual.
    """

    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecasts_end_evaluated", "end_at", "evaluated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    wedding_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model_versions: Mapped[str] = mapped_column(Text, default="{}")
    request: Mapped[str] = mapped_column(Text, default="{}")
    payload: Mapped[str] = mapped_column(Text)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accuracy: Mapped[str | None] = mapped_column(Text, nullable=True)
