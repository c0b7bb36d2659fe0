"""The audit log service: append hash-chained rows in the caller's transaction, verify, query.

Rows are written by the engine service that performs an action (not by a view decorator),
so a scheduler-made decision and a button press are audited alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.security.audit_chain import (
    AuditRecord,
    ChainReport,
    chain_hash,
    derive_audit_key,
    verify_chain,
)
from engine.storage.models import AuditCheckpoint, AuditEntry

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who did something: user name, role value and source address ("" for the engine).

    ``breakglass_grant`` is the id of the break-glass grant the person holds while acting,
    if any: every row they write then carries it, so emergency actions are tagged.
    """

    name: str
    role: str
    source_ip: str = ""
    breakglass_grant: int | None = None


SYSTEM = Actor(SYSTEM_ACTOR, "system")


@dataclass(frozen=True)
class AuditFilter:
    """Filters for listing audit rows; None means "any"."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def _record_of(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        row.id, row.ts, row.actor, row.role, row.action, row.target,
        row.reason, row.outcome, row.source_ip, row.details,
    )


class AuditLog:
    """Append-only, HMAC-chained audit log over the ``audit_log`` table."""

    def __init__(self, secret_key: str):
        self._key = derive_audit_key(secret_key)

    def record(
        self,
        session: Session,
        *,
        now: datetime,
        actor: Actor,
        action: str,
        outcome: str,
        target: str = "",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one row in ``session``'s transaction and move the checkpoint with it.

        The checkpoint row is updated first: that takes the write lock (SQLite) or the row
        lock (PostgreSQL), so concurrent writers extend the chain one after another instead
        of forking it.
        """
        locked = session.execute(
            update(AuditCheckpoint).where(AuditCheckpoint.id == 1)
            .values(last_id=AuditCheckpoint.last_id)
        )
        if locked.rowcount == 0:
            # Created by the first migration; never recreate it here, that would hide a
            # deletion of the newest rows together with the checkpoint.
            raise RuntimeError("audit checkpoint row is missing; run `wedscale audit verify`")
        checkpoint = session.get(AuditCheckpoint, 1, populate_existing=True)
        next_id = (session.scalar(select(func.max(AuditEntry.id))) or 0) + 1
        details = dict(details or {})
        if actor.breakglass_grant is not None:
            details["breakglass_grant"] = actor.breakglass_grant
        record = AuditRecord(
            next_id, now, actor.name, actor.role, action, target[:255], reason,
            outcome, actor.source_ip or "", json.dumps(details, sort_keys=True, default=str),
        )
        digest = chain_hash(self._key, checkpoint.last_hash, record)
        row = AuditEntry(
            id=record.id, ts=record.ts, actor=record.actor, role=record.role,
            action=record.action, target=record.target, reason=record.reason,
            outcome=record.outcome, source_ip=record.source_ip, details=record.details,
            prev_hash=checkpoint.last_hash, hash=digest,
        )
        session.add(row)
        checkpoint.last_id = record.id
        checkpoint.last_hash = digest
        session.flush()
        return row

    def verify(self, session: Session) -> ChainReport:
        """Verify every row and the checkpoint; see ``verify_chain``."""
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        checkpoint = session.get(AuditCheckpoint, 1)
        if checkpoint is None:
            return ChainReport(False, 0, None, "the audit checkpoint row is missing")
        cp = (checkpoint.last_id, checkpoint.last_hash)
        return verify_chain(self._key, ((_record_of(r), r.prev_hash, r.hash) for r in rows), cp)

    @staticmethod
    def _filtered(filters: AuditFilter):
        query = select(AuditEntry)
        if filters.actor:
            query = query.where(AuditEntry.actor == filters.actor)
        if filters.action:
            query = query.where(AuditEntry.action == filters.action)
        if filters.outcome:
            query = query.where(AuditEntry.outcome == filters.outcome)
        if filters.since:
            query = query.where(AuditEntry.ts >= filters.since)
        if filters.until:
            query = query.where(AuditEntry.ts < filters.until)
        if filters.text:
            like = f"%{filters.text}%"
            query = query.where(AuditEntry.target.like(like) | AuditEntry.reason.like(like))
        return query

    def page(self, session: Session, filters: AuditFilter, *, offset: int = 0,
             limit: int = 50) -> tuple[list[AuditEntry], int]:
        """Return one page of rows (newest first) and the total count matching ``filters``."""
        query = self._filtered(filters)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
        ).scalars().all()
        return list(rows), total

    def iter_all(self, session: Session, filters: AuditFilter | None = None) -> Iterator[AuditEntry]:
        """Yield every matching row, oldest first (for exports)."""
        query = self._filtered(filters or AuditFilter()).order_by(AuditEntry.id)
        yield from session.execute(query).scalars()


EXPORT_FIELDS = ("id", "ts", "actor", "role", "action", "target", "reason", "outcome",
                 "source_ip", "details", "prev_hash", "hash")


def audit_row_dict(row: AuditEntry) -> dict[str, Any]:
    """Return ``row`` as a plain dict with an ISO timestamp (for CSV/JSONL/API)."""
    out = {name: getattr(row, name) for name in EXPORT_FIELDS}
    out["ts"] = row.ts.isoformat()
    return out
