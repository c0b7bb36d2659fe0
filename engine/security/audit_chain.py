"""The audit hash chain as pure functions: canonical rows, HMAC hashes, verification.

``hash = HMAC-SHA256(key, prev_hash ‖ canonical row)`` where the key is derived from the
secret key and never stored in the database, so someone with only database access cannot
rewrite rows consistently. The row id is part of the canonical form, so a reorder breaks
the chain as surely as an edit or a delete.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

GENESIS_HASH = "0" * 64
_KEY_LABEL = b"wedscale audit chain v1"


def derive_audit_key(secret_key: str) -> bytes:
    """Return the chain key derived from the application's secret key."""
    return hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class AuditRecord:
    """The hashed content of one audit row."""

    id: int
    ts: datetime
    actor: str
    role: str
    action: str
    target: str
    reason: str
    outcome: str
    source_ip: str
    details: str


def canonical_bytes(record: AuditRecord) -> bytes:
    """Return the canonical serialisation of ``record`` (sorted-key JSON, UTC microseconds)."""
    ts = record.ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = {
        "id": record.id,
        "ts": ts,
        "actor": record.actor,
        "role": record.role,
        "action": record.action,
        "target": record.target,
        "reason": record.reason,
        "outcome": record.outcome,
        "source_ip": record.source_ip,
        "details": record.details,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(key: bytes, prev_hash: str, record: AuditRecord) -> str:
    """Return the hex HMAC-SHA256 of ``prev_hash ‖ canonical(record)``."""
    return hmac.new(key, prev_hash.encode() + canonical_bytes(record), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a verification: ``ok``, how many rows were checked, the first bad row."""

    ok: bool
    rows: int
    bad_id: int | None = None
    problem: str = ""


def verify_chain(
    key: bytes,
    rows: Iterable[tuple[AuditRecord, str, str]],
    checkpoint: tuple[int, str] | None,
) -> ChainReport:
    """Check ``(record, prev_hash, hash)`` rows in id order against each other and the checkpoint.

    Detects an edited row (hash mismatch), a deleted or reordered row (prev_hash does not
    continue the chain, or ids do not increase) and deleted newest rows (the checkpoint names
    a later row or another hash than the last one).
    """
    prev = GENESIS_HASH
    last_id = 0
    n = 0
    for record, prev_hash, stored in rows:
        n += 1
        if record.id <= last_id:
            return ChainReport(False, n, record.id, "row ids out of order")
        if prev_hash != prev:
            return ChainReport(False, n, record.id, "previous hash does not match the row before")
        if chain_hash(key, prev_hash, record) != stored:
            return ChainReport(False, n, record.id, "row content does not match its hash")
        prev, last_id = stored, record.id
    if checkpoint is not None:
        cp_id, cp_hash = checkpoint
        if cp_id != last_id or cp_hash != prev:
            return ChainReport(
                False, n, cp_id or None,
                f"checkpoint names row {cp_id} but the chain ends at row {last_id}",
            )
    return ChainReport(True, n)
