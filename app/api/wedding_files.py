"""Wedding calendar files: CSV import with a row-by-row report, ICS export; pre-scale requests."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_login import current_user

from app.access import actor_of, json_error, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import flag, text_field
from engine.decoding import decode_upload
from engine.scaling.executor import decision_json
from engine.security.permissions import Permission
from engine.wedding_book import stored_weddings
from engine.wedding_ics import calendar_ics
from engine.wedding_import import import_weddings


def _engine():
    return current_app.extensions["wedscale"]


def _upload_text() -> str:
    upload = request.files.get("file")
    return decode_upload(upload.read() if upload is not None else request.get_data())


@bp.post("/scalability/weddings/import")
@documented(Permission.WEDDINGS_WRITE, query=schemas.ImportQuerySchema,
            body={"text/csv": {"type": "string"},
                  "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string",
                                                                                   "format": "binary"}}}},
            responses={201: schemas.ImportReportSchema}, tag="weddings")
def import_wedding_csv():
    """Import a wedding CSV (``text/csv`` body or a ``file`` form field).

    ``?mode=all_or_nothing`` (default) stores nothing when any row is bad; ``valid_only``
    stores the good rows. 201 with the report when something was stored, else 422 with it.
    """
    require(Permission.WEDDINGS_WRITE)
    engine = _engine()
    text = _upload_text()
    with engine.db.session() as session:
        report = import_weddings(session, engine.weddings, text, mode=request.args.get("mode", "all_or_nothing"),
                                 actor=actor_of(current_user), now=engine.clock.now())
    engine.calendar.invalidate()
    if report.stored:
        return jsonify(report.as_dict()), 201
    first = report.errors[0].as_dict() if report.errors else {"row": 0, "field": "file", "message": "no rows"}
    return json_error(422, "invalid_input", f"row {first['row']}: {first['message']}",
                      {"field": first["field"] or "file", **report.as_dict()})


@bp.get("/scalability/weddings.ics")
@documented(Permission.WEDDINGS_READ, query=schemas.IcsQuerySchema,
            responses={200: {"text/calendar": {"type": "string"}}}, tag="weddings")
def export_wedding_ics():
    """The calendar as iCalendar (RFC 5545, UTC times); ``includeCancelled=true`` adds cancelled ones."""
    require(Permission.WEDDINGS_READ)
    engine = _engine()
    with engine.db.session() as session:
        weddings = stored_weddings(session, include_cancelled=flag("includeCancelled"))
    body = calendar_ics(weddings, engine.clock.now(), host=request.host.split(":")[0] or "wedscale")
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="weddings.ics"'})


@bp.post("/scalability/weddings/<int:wedding_id>/prescale")
@documented(Permission.PRESCALE_REQUEST, body=schemas.PrescaleBodySchema,
            responses={201: schemas.DecisionListSchema}, errors=(409,), tag="weddings")
def request_prescale(wedding_id: int):
    """Ask operators to pre-scale for a wedding: one pending decision per service short of its forecast."""
    require(Permission.PRESCALE_REQUEST)
    body = request.get_json(silent=True) or {}
    note = text_field(body, "note") if isinstance(body, dict) else ""
    rows = _engine().request_prescale(wedding_id, actor_of(current_user), note)
    return jsonify({"decisions": [decision_json(r) for r in rows]}), 201
