"""The backup manifest: one ``backups`` row per file. Every function takes the caller's session."""

from __future__ import annotations

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.storage.models import BackupRow

_COLUMNS = [c.name for c in BackupRow.__table__.columns]


def get_backup(session: Session, backup_id: int) -> BackupRow:
    """Return the manifest row ``backup_id``; raises NotFound."""
    row = session.get(BackupRow, backup_id)
    if row is None:
        raise NotFound(f"no backup with id {backup_id}")
    return row


def list_backups(session: Session) -> list[BackupRow]:
    """Return every manifest row, newest first."""
    return list(session.execute(
        select(BackupRow).order_by(BackupRow.created_at.desc(), BackupRow.id.desc())).scalars())


def newest_backup(session: Session, *, kind: str | None = None, verified: bool = False,
                  usable: bool = False) -> BackupRow | None:
    """Return the newest row, optionally of ``kind``, that verified (``verified``) or did not
    fail verification (``usable``)."""
    query = select(BackupRow)
    if kind is not None:
        query = query.where(BackupRow.kind == kind)
    if verified:
        query = query.where(BackupRow.verify_ok.is_(True))
    if usable:
        query = query.where((BackupRow.verify_ok.is_(None)) | (BackupRow.verify_ok.is_(True)))
    return session.execute(query.order_by(BackupRow.created_at.desc(), BackupRow.id.desc())
                           .limit(1)).scalars().first()


def delete_backups(session: Session, ids: list[int]) -> None:
    """Delete the manifest rows ``ids``."""
    if ids:
        session.execute(delete(BackupRow).where(BackupRow.id.in_(ids)))


def row_values(row: BackupRow) -> dict:
    """Return ``row``'s columns as a plain dict."""
    return {c: getattr(row, c) for c in _COLUMNS}


def export_manifest(session: Session) -> list[dict]:
    """Return every row as a plain dict (to carry the manifest across a restore)."""
    return [row_values(row) for row in list_backups(session)]


def replace_manifest(session: Session, rows: list[dict]) -> list[BackupRow]:
    """Replace the whole manifest with ``rows`` and return the stored rows.

    Rows keep their ids; a row whose id is None gets a new one. Nothing is stored (and []
    returned) when the table does not exist.

    A restored database carries the manifest as it was when that backup was taken; the files
    on disk are what they are now, so after a restore the manifest read just before it is
    put back.
    """
    if "backups" not in inspect(session.connection()).get_table_names():
        return []  # a backup from before the manifest existed; `db upgrade` recreates it
    session.execute(delete(BackupRow))
    session.flush()
    kept = [BackupRow(**values) for values in rows if values.get("id") is not None]
    session.add_all(kept)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Explicit ids do not move the sequence: put it past the largest id again.
        session.execute(text("SELECT setval(pg_get_serial_sequence('backups', 'id'), "
                             "COALESCE((SELECT MAX(id) FROM backups), 0) + 1, false)"))
    new = [BackupRow(**{**values, "id": None}) for values in rows if values.get("id") is None]
    session.add_all(new)
    session.flush()
    return kept + new
