"""Audit rows rendered as CSV or JSON Lines (CLI export and the admin download)."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable

from engine.security.audit import EXPORT_FIELDS, audit_row_dict
from engine.storage.models import AuditEntry


def render_export(rows: Iterable[AuditEntry], fmt: str) -> str:
    """Return ``rows`` as CSV (header first) or JSON Lines (``fmt`` = "csv" or "jsonl")."""
    if fmt == "jsonl":
        return "".join(json.dumps(audit_row_dict(r), sort_keys=True) + "\n" for r in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(audit_row_dict(row))
    return buffer.getvalue()
