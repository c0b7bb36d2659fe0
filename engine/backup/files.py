"""Backup files on disk: the folder, the file names, the SHA-256 of a file."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from engine.settings import Settings

BACKUPS_FOLDER = "backups"


def resolve_backup_dir(settings: Settings) -> Path:
    """Return where backups go: ``WEDSCALE_BACKUP_DIR``, else ``backups/`` beside the SQLite file,
    else (PostgreSQL) ``var/backups``."""
    if settings.backup_dir is not None:
        return Path(settings.backup_dir)
    if settings.is_sqlite and "///" in settings.database_url:
        path = settings.database_url.split("///", 1)[1].split("?", 1)[0]
        if path and not path.startswith(":memory:"):
            return Path(path).parent / BACKUPS_FOLDER
    return Path(settings.var_dir) / BACKUPS_FOLDER


def backup_file_name(created_at: datetime, kind: str, suffix: str, taken: set[str]) -> str:
    """Return ``wedscale-YYYYmmddTHHMMSSZ-KIND[-n]SUFFIX``, unique among ``taken`` names."""
    stem = f"wedscale-{created_at:%Y%m%dT%H%M%S}Z-{kind}"
    name, n = f"{stem}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}{suffix}"
    return name


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
