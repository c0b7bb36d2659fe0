"""A JSON copy of each manifest row beside its backup file (``NAME.json``).

The database's manifest is what the app lists, but a database that lost its data has lost
its manifest too; the sidecars let ``restore ID`` find the file and its checksum anyway, and
let a restore rebuild the manifest from the files that are really on disk.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from engine.storage.models import BackupRow

SIDECAR_SUFFIX = ".json"
# The facts fixed when the file is written; verification results live in the database only.
_FIELDS = ("id", "created_at", "kind", "dialect", "path", "size_bytes", "sha256", "row_counts",
           "audit_last_id", "audit_last_hash", "dump_s")


def sidecar_path(backup_path: Path) -> Path:
    """Return the sidecar of the backup file ``backup_path``."""
    return backup_path.with_name(backup_path.name + SIDECAR_SUFFIX)


def write_sidecar(row: BackupRow) -> None:
    """Write (or overwrite) the sidecar of ``row``."""
    values = {f: getattr(row, f) for f in _FIELDS}
    values["created_at"] = row.created_at.isoformat()
    sidecar_path(Path(row.path)).write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")


def read_sidecars(folder: Path) -> list[BackupRow]:
    """Return an unsaved BackupRow for every readable sidecar in ``folder`` whose file exists."""
    rows = []
    for path in sorted(folder.glob(f"*{SIDECAR_SUFFIX}")) if folder.is_dir() else []:
        try:
            values = json.loads(path.read_text())
            values["created_at"] = datetime.fromisoformat(values["created_at"])
            row = BackupRow(**{f: values.get(f) for f in _FIELDS}, verify_detail="")
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or damaged: the file itself is still listed by its name
        if Path(row.path).exists():
            rows.append(row)
    return rows
