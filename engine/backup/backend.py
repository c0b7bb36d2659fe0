"""The edge between the backup service and a database engine: dump, scratch restore, replace."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from engine.backup.snapshot import Snapshot


class BackupFailed(Exception):
    """A dump or restore command failed; the message is one line for the operator."""


class DatabaseBackend(Protocol):
    """Writes and reads backup files of one database. ``suffix`` names the file format."""

    suffix: str

    def dump(self, dest: Path) -> Snapshot:
        """Write a compressed, consistent copy of the live database to ``dest``.

        Returns the row counts and audit head of the very snapshot written. Raises
        BackupFailed.
        """
        ...

    def scratch(self, archive: Path) -> AbstractContextManager[str]:
        """Restore ``archive`` into a throwaway database; yield its SQLAlchemy URL; drop it after.

        Raises BackupFailed when the file cannot be restored (corrupt, truncated).
        """
        ...

    def replace(self, archive: Path) -> None:
        """Replace the live database's content with ``archive``. Raises BackupFailed."""
        ...


def backend_for(url: str, work_dir: Path) -> DatabaseBackend:
    """Return the backend for the database at SQLAlchemy ``url``; temp files go in ``work_dir``."""
    if url.startswith("sqlite"):
        from engine.backup.sqlite_backup import SqliteBackend, sqlite_path

        return SqliteBackend(sqlite_path(url), work_dir)
    if url.startswith("postgresql"):
        from engine.backup.postgres_backup import PostgresBackend

        return PostgresBackend(url)
    raise BackupFailed(f"no backup method for this database ({url.split(':', 1)[0]})")
