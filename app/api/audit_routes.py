"""Audit log reads and exports (admins)."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from app.access import require
from app.api import bp, schemas
from app.api.docs import documented
from engine.errors import InvalidInput
from engine.security.audit import AuditFilter, audit_row_dict
from engine.security.audit_export import render_export
from engine.security.permissions import Permission

MAX_OFFSET = 2**31 - 1


def _filters() -> AuditFilter:
    args = request.args
    return AuditFilter(actor=args.get("actor") or None, action=args.get("action") or None,
                       outcome=args.get("outcome") or None, text=args.get("text") or None)


@bp.get("/audit")
@documented(Permission.AUDIT_READ, query=schemas.AuditQuerySchema,
            responses={200: schemas.AuditPageSchema})
def audit_list():
    """One page of audit rows, newest first (``offset``, ``limit`` ≤ 500)."""
    require(Permission.AUDIT_READ)
    try:
        offset = max(0, int(request.args.get("offset", 0)))
        limit = min(500, max(1, int(request.args.get("limit", 50))))
    except ValueError:
        raise InvalidInput("offset and limit must be whole numbers") from None
    if offset > MAX_OFFSET:  # the database driver cannot bind larger integers
        raise InvalidInput(f"offset must be at most {MAX_OFFSET}", {"parameter": "offset"})
    engine = current_app.extensions["wedscale"]
    with engine.db.session() as session:
        rows, total = engine.audit.page(session, _filters(), offset=offset, limit=limit)
        return jsonify({"total": total, "rows": [audit_row_dict(r) for r in rows]})


@bp.get("/audit/export")
@documented(Permission.AUDIT_READ, query=schemas.AuditExportQuerySchema,
            responses={200: {"text/csv": {"type": "string"},
                             "application/x-ndjson": {"type": "string"}}})
def audit_export():
    """The filtered audit log as a CSV or JSONL download."""
    require(Permission.AUDIT_READ)
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        raise InvalidInput("format must be csv or jsonl", {"parameter": "format"})
    engine = current_app.extensions["wedscale"]
    with engine.db.session() as session:
        text = render_export(engine.audit.iter_all(session, _filters()), fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(text, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=audit.{fmt}"})
