"""Verification of one backup: its file and checksum, then a restore into a scratch database
whose row counts, audit head and audit chain must match what the manifest recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from engine.backup.backend import DatabaseBackend
from engine.backup.files import sha256_of
from engine.backup.snapshot import compare_counts, read_snapshot
from engine.security.audit import AuditLog
from engine.storage.models import BackupRow


def seconds_text(seconds: float | None) -> str:
    """Return a duration for people: ``"38 ms"``, ``"2.41 s"``, ``"3.2 min"`` (``"–"`` for None)."""
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def file_problem(row: BackupRow, dialect: str) -> str | None:
    """Return why ``row``'s file cannot be restored here (missing, checksum, other dialect), or None."""
    path = Path(row.path)
    if not path.exists():
        return f"file missing: {path}"
    actual = sha256_of(path)
    if actual != row.sha256:
        return (f"checksum mismatch: the file's SHA-256 is {actual[:16]}…, the manifest says "
                f"{row.sha256[:16]}… (changed or truncated after it was written)")
    if row.dialect != dialect:
        return f"written from {row.dialect}; this database is {dialect}"
    return None


def restore_check(row: BackupRow, backend: DatabaseBackend, audit: AuditLog,
                  timer: Callable[[], float]) -> tuple[str | None, float]:
    """Restore ``row`` into a scratch database and compare; return (problem or None, restore_s).

    ``restore_s`` (decompress + restore) is the measured recovery time. Raises BackupFailed
    when the file does not restore at all.
    """
    start = timer()
    with backend.scratch(Path(row.path)) as url:
        restore_s = timer() - start
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                restored = read_snapshot(conn)
            with Session(engine) as session:
                chain = audit.verify(session)
        finally:
            engine.dispose()
    mismatches = compare_counts(json.loads(row.row_counts or "{}"), restored.row_counts)
    if mismatches:
        return "row counts differ: " + "; ".join(mismatches[:3]), restore_s
    if (restored.audit_last_id, restored.audit_last_hash) != (row.audit_last_id, row.audit_last_hash):
        return f"audit head is row {restored.audit_last_id}, the manifest says {row.audit_last_id}", restore_s
    if not chain.ok:
        return f"restored audit chain broken at row {chain.bad_id}: {chain.problem}", restore_s
    return None, restore_s
