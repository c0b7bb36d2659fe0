"""The backup service: create, list, verify (by restoring), restore, prune, and the scheduled run.

Every action is audited here, so a scheduled backup and a button press are recorded alike.
Files are written as ``NAME.partial`` and renamed once complete and checksummed, so a crash
never leaves a file that looks finished.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable

from engine.backup import manifest
from engine.backup.backend import BackupFailed, DatabaseBackend, backend_for
from engine.backup.files import backup_file_name, sha256_of
from engine.backup.sidecar import read_sidecars, sidecar_path, write_sidecar
from engine.backup.retention import RetainedBackup, RetentionPolicy, select_expired
from engine.backup.schedule import KINDS, PRE_RESTORE, PRE_WEDDING, due_backup_kind, recovery_point_s
from engine.backup.verification import file_problem, restore_check, seconds_text
from engine.clock import Clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.security.audit import SYSTEM, Actor, AuditLog
from engine.storage.db import Database
from engine.storage.models import AuditCheckpoint, BackupRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of one verification: ok, a one-line detail, the measured restore time (s)."""

    backup_id: int
    ok: bool
    detail: str
    restore_s: float | None


@dataclass(frozen=True)
class RestoreResult:
    """Outcome of a restore: which backup, the pre-restore backup taken first, the duration."""

    backup_id: int
    pre_restore_id: int
    restore_s: float
    audit_row_id: int


@dataclass(frozen=True)
class BackupStatus:
    """What the health check and the page show: counts, newest backups, RPO and RTO."""

    count: int
    total_bytes: int
    newest: BackupRow | None
    newest_verified: BackupRow | None
    rpo_s: float | None
    rto_s: float | None
    failed: BackupRow | None  # the newest verified-or-failed backup, when it failed


class BackupService:
    """Backups of the app database into ``backup_dir``.

    Parameters
    ----------
    db : Database
        The live database.
    audit : AuditLog
        Keyed with the secret key; also verifies the restored copies' chains.
    clock : Clock
        Time of backups and verifications.
    backup_dir : Path
        Folder for the files (created on first use).
    interval_s : float
        Age of the newest backup after which a scheduled one is due.
    backend : DatabaseBackend, optional
        Picked from the database URL when not given.
    timer : callable
        Monotonic seconds for the dump and restore durations (``time.perf_counter``).
    """

    def __init__(self, db: Database, audit: AuditLog, clock: Clock, backup_dir: Path, *,
                 interval_s: float = 3600.0, policy: RetentionPolicy = RetentionPolicy(),
                 backend: DatabaseBackend | None = None,
                 timer: Callable[[], float] = time.perf_counter):
        self.db = db
        self.audit = audit
        self.clock = clock
        self.backup_dir = Path(backup_dir)
        self.interval = timedelta(seconds=interval_s)
        self.policy = policy
        self._backend = backend
        self._timer = timer

    @property
    def backend(self) -> DatabaseBackend:
        """The dump/restore edge for the live database (built on first use)."""
        if self._backend is None:
            self._backend = backend_for(self.db.url, self.backup_dir)
        return self._backend

    def _audit_quietly(self, actor: Actor, action: str, outcome: str, target: str, reason: str) -> None:
        """Audit a failure; a database too damaged to take the row must not hide the failure."""
        try:
            with self.db.session() as session:
                self.audit.record(session, now=self.clock.now(), actor=actor, action=action,
                                  outcome=outcome, target=target, reason=reason)
        except Exception:
            log.exception("could not audit %s (%s)", action, reason)

    def _write(self, kind: str) -> BackupRow:
        """Write and checksum a backup file and its sidecar; return the (unsaved) manifest row."""
        if kind not in KINDS:
            raise InvalidInput(f"unknown backup kind {kind!r}; one of {', '.join(KINDS)}")
        now = self.clock.now()
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        name = backup_file_name(now, kind, self.backend.suffix, set(os.listdir(self.backup_dir)))
        final = self.backup_dir / name
        partial = final.with_name(name + ".partial")
        try:
            start = self._timer()
            snapshot = self.backend.dump(partial)
            dump_s = self._timer() - start
            digest, size = sha256_of(partial), partial.stat().st_size
            os.replace(partial, final)
        except (BackupFailed, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise BackupFailed(str(exc)) from exc
        row = BackupRow(created_at=now, kind=kind, dialect=self.db.dialect, path=str(final.resolve()),
                        size_bytes=size, sha256=digest, row_counts=json.dumps(snapshot.row_counts),
                        audit_last_id=snapshot.audit_last_id, audit_last_hash=snapshot.audit_last_hash,
                        dump_s=round(dump_s, 4), verify_detail="")
        write_sidecar(row)
        return row

    def _record(self, row: BackupRow, actor: Actor) -> BackupRow:
        """Add ``row`` to the manifest, audit it and put its id into the sidecar."""
        with self.db.session() as session:
            session.add(row)
            session.flush()
            self.audit.record(session, now=self.clock.now(), actor=actor, action="backup.create",
                              outcome="ok", target=f"backup {row.id}",
                              details={"kind": row.kind, "file": Path(row.path).name,
                                       "size_bytes": row.size_bytes, "sha256": row.sha256,
                                       "rows": sum(json.loads(row.row_counts).values())})
        write_sidecar(row)
        return row

    def create(self, kind: str, actor: Actor = SYSTEM) -> BackupRow:
        """Write a backup file, checksum it and add its manifest row; audited. Raises BackupFailed."""
        try:
            row = self._write(kind)
        except BackupFailed as exc:
            self._audit_quietly(actor, "backup.create", "failed", kind, str(exc))
            raise
        return self._record(row, actor)

    def list(self) -> list[BackupRow]:
        """Return every manifest row, newest first."""
        with self.db.session() as session:
            return manifest.list_backups(session)

    def get(self, backup_id: int) -> BackupRow:
        """Return one manifest row, from the database or else from the sidecars; raises NotFound."""
        try:
            with self.db.session() as session:
                return manifest.get_backup(session, backup_id)
        except NotFound:
            pass  # a database that lost its rows lost its manifest: the sidecars still know
        except Exception:
            log.warning("backup manifest unreadable; looking for backup %s in the sidecars", backup_id)
        found = [r for r in read_sidecars(self.backup_dir) if r.id == backup_id]
        if not found:
            raise NotFound(f"no backup with id {backup_id}")
        return found[0]

    def verify(self, backup_id: int, actor: Actor = SYSTEM) -> VerifyResult:
        """Check the checksum, restore into a scratch database, compare row counts and the audit
        head, verify the restored audit chain; record and audit the result."""
        row = self.get(backup_id)
        problem, restore_s = file_problem(row, self.db.dialect), None
        if problem is None:
            try:
                problem, restore_s = restore_check(row, self.backend, self.audit, self._timer)
            except BackupFailed as exc:
                problem = str(exc)
        ok = problem is None
        counts = json.loads(row.row_counts or "{}")
        detail = (f"restored in {seconds_text(restore_s)}; {sum(counts.values())} rows in {len(counts)} "
                  "tables match; audit chain verifies") if ok else problem
        now = self.clock.now()
        with self.db.session() as session:
            stored = manifest.get_backup(session, backup_id)
            stored.verified_at, stored.verify_ok, stored.verify_detail = now, ok, detail
            stored.restore_s = round(restore_s, 4) if restore_s is not None else None
            self.audit.record(session, now=now, actor=actor, action="backup.verify",
                              outcome="ok" if ok else "failed", target=f"backup {backup_id}",
                              reason="" if ok else detail)
        return VerifyResult(backup_id, ok, detail, restore_s)

    def verify_all(self, actor: Actor = SYSTEM) -> list[VerifyResult]:
        """Verify every backup, oldest first."""
        return [self.verify(row.id, actor) for row in reversed(self.list())]

    def restore(self, backup_id: int, actor: Actor) -> RestoreResult:
        """Replace the database with backup ``backup_id``; audited in the restored chain.

        A pre-restore backup is written first; when it cannot be written the restore is
        refused. The manifest is carried across (read before, written back after, with any
        sidecar-only files added), because it describes files on disk, which a restore does
        not change. Raises NotFound, Conflict (a damaged file) or BackupFailed (the restore
        failed and the database is unchanged: both restores are one transaction).
        """
        row = self.get(backup_id)
        problem = file_problem(row, self.db.dialect)
        if problem is not None:
            self._audit_quietly(actor, "backup.restore", "failed", f"backup {backup_id}", problem)
            raise Conflict(f"refusing to restore backup {backup_id}: {problem}")
        try:
            pre = self._write(PRE_RESTORE)
        except BackupFailed as exc:
            raise BackupFailed(f"could not take the pre-restore backup, nothing restored: {exc}") from exc
        saved, replaced_head = self._read_live_state(pre, actor)
        start = self._timer()
        self.db.dispose()  # our pooled connections must not hold the old file or locks
        try:
            self.backend.replace(Path(row.path))
        except BackupFailed as exc:
            self._audit_quietly(actor, "backup.restore", "failed", f"backup {backup_id}", str(exc))
            raise
        finally:
            self.db.dispose()
        restore_s = self._timer() - start
        with self.db.session() as session:
            rows = manifest.replace_manifest(session, self._manifest_after_restore(saved))
            entry = self.audit.record(
                session, now=self.clock.now(), actor=actor, action="backup.restored", outcome="ok",
                target=f"backup {backup_id}",
                details={"backup_id": backup_id, "backup_created_at": row.created_at.isoformat(),
                         "pre_restore_file": Path(pre.path).name, "restore_s": round(restore_s, 3),
                         # the head of the chain this restore replaced: its rows stay
                         # traceable in the pre-restore backup
                         "replaced_audit_last_id": replaced_head[0],
                         "replaced_audit_last_hash": replaced_head[1]})
        for restored_row in rows:
            write_sidecar(restored_row)
        pre_id = next((r.id for r in rows if r.path == pre.path), None)
        return RestoreResult(backup_id, pre_id, restore_s, entry.id)

    def _read_live_state(self, pre: BackupRow, actor: Actor) -> tuple[list[dict], tuple[int, str]]:
        """Record the pre-restore backup and read the manifest and audit head, as far as the
        (possibly damaged) live database allows."""
        try:
            self._record(pre, actor)
        except Exception:
            log.warning("pre-restore backup %s written but not recorded; the restore adds it", pre.path)
        try:
            with self.db.session() as session:
                checkpoint = session.get(AuditCheckpoint, 1)
                head = (checkpoint.last_id, checkpoint.last_hash) if checkpoint else (0, "")
                return manifest.export_manifest(session), head
        except Exception:
            return [], (0, "")

    def _manifest_after_restore(self, saved: list[dict]) -> list[dict]:
        """The manifest read before the restore plus every sidecar-described file it lacks."""
        paths = {r["path"] for r in saved}
        ids = {r["id"] for r in saved}
        rows = list(saved)
        for extra in read_sidecars(self.backup_dir):
            if extra.path in paths:
                continue
            values = manifest.row_values(extra)
            if values["id"] in ids:
                values["id"] = None
            rows.append(values)
            ids.add(values["id"])
        return rows

    def prune(self, actor: Actor = SYSTEM) -> list[int]:
        """Delete the files and rows retention expires; return their ids (audited when any)."""
        now = self.clock.now()
        with self.db.session() as session:
            rows = manifest.list_backups(session)
            expired = select_expired([RetainedBackup(r.id, r.created_at, r.verify_ok) for r in rows],
                                     now, self.policy)
            for row in rows:
                if row.id in expired:
                    Path(row.path).unlink(missing_ok=True)
                    sidecar_path(Path(row.path)).unlink(missing_ok=True)
            manifest.delete_backups(session, expired)
            if expired:
                self.audit.record(session, now=now, actor=actor, action="backup.prune", outcome="ok",
                                  target=f"{len(expired)} backup(s)", details={"ids": expired})
        return expired

    def run_due(self, window_starts: Iterable, actor: Actor = SYSTEM) -> int | None:
        """The scheduled job: take the backup that is due (pre-wedding or hourly), verify it,
        prune; return its id, or None when none was due."""
        now = self.clock.now()
        with self.db.session() as session:
            newest = manifest.newest_backup(session, usable=True)
            pre = manifest.newest_backup(session, kind=PRE_WEDDING)
        kind = due_backup_kind(now, newest.created_at if newest else None,
                               pre.created_at if pre else None, window_starts, self.interval)
        if kind is None:
            return None
        row = self.create(kind, actor)
        self.verify(row.id, actor)
        self.prune(actor)
        return row.id

    def status(self) -> BackupStatus:
        """Return counts, the newest and newest verified backups, RPO (age of the newest
        verified backup) and RTO (its measured restore time)."""
        rows = self.list()
        verified = next((r for r in rows if r.verify_ok is True), None)
        checked = next((r for r in rows if r.verify_ok is not None), None)
        return BackupStatus(
            count=len(rows), total_bytes=sum(r.size_bytes for r in rows),
            newest=rows[0] if rows else None, newest_verified=verified,
            rpo_s=recovery_point_s(self.clock.now(), verified.created_at if verified else None),
            rto_s=verified.restore_s if verified else None,
            failed=checked if checked is not None and checked.verify_ok is False else None,
        )
