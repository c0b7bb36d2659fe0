"""SQLite backups through the online backup API (``sqlite3.Connection.backup``), gzip-compressed.

The backup API copies a consistent snapshot page by page while the app keeps writing (WAL),
and in reverse it replaces a live file's content under SQLite's own locks, so readers in
other connections see either the old or the new database, never a mix.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine

from engine.backup.backend import BackupFailed
from engine.backup.snapshot import Snapshot, read_snapshot


def sqlite_path(url: str) -> Path:
    """Return the file of a ``sqlite:///PATH`` URL (memory databases cannot be backed up)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:"):
        raise BackupFailed("an in-memory SQLite database cannot be backed up")
    return Path(path.split("?", 1)[0])


def _copy(source: Path, dest: Path) -> None:
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(dest, timeout=30)) as dst:
        # One step: in WAL mode a reader does not block the app's writers, and a single step
        # cannot be restarted by a write between steps, so the copy is one snapshot.
        src.backup(dst, pages=-1)


def _snapshot_of_file(path: Path) -> Snapshot:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return read_snapshot(conn)
    finally:
        engine.dispose()


def _gunzip(archive: Path, dest: Path) -> None:
    try:
        with gzip.open(archive, "rb") as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        with closing(sqlite3.connect(dest)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
    except (OSError, EOFError, gzip.BadGzipFile, sqlite3.DatabaseError) as exc:
        raise BackupFailed(f"cannot restore {archive.name}: {type(exc).__name__}: {exc}") from exc
    if check != "ok":
        raise BackupFailed(f"restored file fails SQLite's integrity check: {check}")


class SqliteBackend:
    """Backups of one SQLite file; temporary copies live in ``work_dir``."""

    suffix = ".sqlite.gz"

    def __init__(self, db_path: Path, work_dir: Path):
        self.db_path = db_path
        self.work_dir = work_dir

    @contextmanager
    def _temp_dir(self) -> Iterator[Path]:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".work-", dir=self.work_dir))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def dump(self, dest: Path) -> Snapshot:
        """Copy the live file with the backup API, count the copy, gzip it to ``dest``."""
        if not self.db_path.exists():
            raise BackupFailed(f"database file {self.db_path} does not exist")
        with self._temp_dir() as folder:
            copy = folder / "copy.db"
            try:
                _copy(self.db_path, copy)
            except sqlite3.Error as exc:
                raise BackupFailed(f"SQLite backup failed: {exc}") from exc
            snapshot = _snapshot_of_file(copy)
            with open(copy, "rb") as src, gzip.open(dest, "wb", compresslevel=6) as out:
                shutil.copyfileobj(src, out, 1 << 20)
        return snapshot

    @contextmanager
    def scratch(self, archive: Path) -> Iterator[str]:
        """Decompress ``archive`` into a temporary file and yield its URL."""
        with self._temp_dir() as folder:
            restored = folder / "restored.db"
            _gunzip(archive, restored)
            yield f"sqlite:///{restored}"

    def replace(self, archive: Path) -> None:
        """Decompress ``archive`` and copy it over the live file with the backup API."""
        with self._temp_dir() as folder:
            restored = folder / "restored.db"
            _gunzip(archive, restored)
            try:
                _copy(restored, self.db_path)
            except sqlite3.Error as exc:
                raise BackupFailed(f"SQLite restore failed: {exc}") from exc
