"""Weddings page (coordinators and up): the calendar; coordinators add, edit, cancel and import.

The editor takes local wall-clock times in the venue's zone (as on the contract); the table
shows UTC. Every change goes through the engine's ``WeddingBook`` (validated, audited), the
same path as the API. CSV import stores nothing when a row is bad unless "only the valid
rows" is ticked; its row-by-row report is shown either way.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import row_id, text, texts
from app.pages.base import PageSpec
from engine.decoding import decode_upload
from engine.errors import WedscaleError
from engine.security.permissions import Permission
from engine.wedding_book import WeddingInput
from engine.wedding_import import import_weddings

TABLE, TABLE_BOX, FEEDBACK = "weddings-table", "weddings-table-box", "weddings-feedback"
EDIT_PICK, NAME, DATE, ZONE = "wedding-edit-pick", "wedding-name", "wedding-date", "wedding-zone"
CEREMONY, RECEPTION_START, RECEPTION_END = "wedding-ceremony", "wedding-reception-start", "wedding-reception-end"
GUESTS, SERVICES, PRIORITY = "wedding-guests", "wedding-services", "wedding-priority"
SAVE, CANCEL = "wedding-save", "wedding-cancel"
UPLOAD, VALID_ONLY, IMPORT_REPORT = "weddings-upload", "weddings-valid-only", "weddings-import-report"
SHOWN_DAYS = 60
NEW = "new"
SERVICE_CHOICES = ("photo sharing", "live streaming", "RSVP", "payments")
ZONES = ("Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Dublin",
         "America/New_York", "America/Chicago", "America/Los_Angeles", "Australia/Sydney", "Asia/Tokyo", "UTC")


def _upcoming(engine) -> list:
    now = engine.clock.now()
    return [w for w in engine.calendar.all()
            if w.window_end > now and w.ceremony_start < now + timedelta(days=SHOWN_DAYS)]


def _table(engine):
    upcoming = _upcoming(engine)
    if not upcoming:
        return dbc.Alert("No weddings in the next two months.", color="secondary")
    rows = [html.Tr([
        html.Td(w.name), html.Td(f"{w.ceremony_start:%a %d %b %Y}"),
        html.Td(f"{w.ceremony_start:%H:%M}"), html.Td(f"{w.reception_start:%H:%M}–{w.reception_end:%H:%M}"),
        html.Td(w.timezone), html.Td(w.guest_count),
        html.Td([dbc.Badge("large", color="info", className="me-1") if w.is_large else None,
                 dbc.Badge("priority", color="warning", text_color="dark") if w.priority else None]),
        html.Td(", ".join(w.services)),
        html.Td(dcc.Link("Forecast", href=f"/forecast?wedding={w.id}", id=f"wedding-forecast-{w.id}")),
    ], id=f"wedding-row-{w.id}") for w in upcoming]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Wedding", "Date", "Ceremony (UTC)", "Reception (UTC)",
                                                     "Venue zone", "Guests", "", "Services", "")]))
    return html.Div([html.P(f"{len(rows)} wedding(s) in the next {SHOWN_DAYS} days.",
                            className="text-body-secondary small"),
                     dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=TABLE)])


def _pick_options(engine) -> list[dict]:
    return [{"label": "New wedding…", "value": NEW}] + [
        {"label": f"{w.ceremony_start:%d %b} · {w.name}", "value": str(w.id)} for w in _upcoming(engine)]


def _editor(engine) -> dbc.Card:
    def field(label, component, width=6):
        return dbc.Col([dbc.Label(label, html_for=component.id, className="small mb-0"), component], md=width)

    return dbc.Card(dbc.CardBody([
        html.H3("Add or edit a wedding", className="h6"),
        dbc.Select(id=EDIT_PICK, options=_pick_options(engine), value=NEW, className="mb-2"),
        dbc.Row([field("Couple", dbc.Input(id=NAME, maxlength=200), 12),
                 field("Date", dbc.Input(id=DATE, type="date")),
                 field("Venue time zone", dbc.Select(id=ZONE, options=list(ZONES), value="Europe/London")),
                 field("Ceremony (local)", dbc.Input(id=CEREMONY, type="time"), 4),
                 field("Reception from", dbc.Input(id=RECEPTION_START, type="time"), 4),
                 field("until", dbc.Input(id=RECEPTION_END, type="time"), 4),
                 field("Guests", dbc.Input(id=GUESTS, type="number", min=1, max=5000)),
                 field("Priority", dbc.Switch(id=PRIORITY, label="priority wedding", value=False))],
                className="g-2"),
        dbc.Label("Services most used", className="small mb-0 mt-2"),
        dbc.Checklist(id=SERVICES, options=list(SERVICE_CHOICES), value=[], inline=True),
        dbc.ButtonGroup([dbc.Button("Save", id=SAVE, color="primary"),
                         dbc.Button("Cancel this wedding", id=CANCEL, color="danger", outline=True)],
                        className="mt-2"),
    ]), className="mb-3")


def _importer() -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H3("Import a CSV", className="h6"),
        html.P("Columns: name, date, timezone, ceremony_start, reception_start, reception_end, guest_count, "
               "services (separated by ;), priority (true/false).", className="small text-body-secondary"),
        dbc.Checkbox(id=VALID_ONLY, label="Store only the valid rows (otherwise nothing when a row is bad)",
                     value=False, className="small mb-2"),
        dcc.Upload(id=UPLOAD, children=html.Div(["Drop a CSV here or ", html.A("choose a file")]),
                   className="border border-secondary rounded p-3 text-center small", accept=".csv,text/csv"),
        html.Div(id=IMPORT_REPORT, className="mt-2"),
    ]))


def layout(engine) -> html.Div:
    """Return the Weddings page: the next two months, plus the editor for coordinators."""
    can_edit = current_user.can(Permission.WEDDINGS_WRITE)
    export = html.A([html.I(className="bi bi-calendar-event me-1"), "Export ICS"], id="weddings-ics",
                    href="/api/scalability/weddings.ics", className="btn btn-sm btn-outline-secondary")
    return html.Div([
        html.Div([html.H2("Weddings", className="h4 me-auto"), export], className="d-flex align-items-center"),
        html.Div(id=FEEDBACK),
        dbc.Row([dbc.Col(html.Div(_table(engine), id=TABLE_BOX), lg=8 if can_edit else 12),
                 dbc.Col(html.Div([_editor(engine), _importer()], id="weddings-controls"), lg=4)
                 if can_edit else None]),
    ])


def _form_of(engine, picked: str | None):
    for w in engine.calendar.all():
        if str(w.id) == picked:
            zone = ZoneInfo(w.timezone)
            local = [t.astimezone(zone) for t in (w.ceremony_start, w.reception_start, w.reception_end)]
            return (w.name, f"{local[0]:%Y-%m-%d}", w.timezone, f"{local[0]:%H:%M}", f"{local[1]:%H:%M}",
                    f"{local[2]:%H:%M}", w.guest_count, [s for s in w.services if s in SERVICE_CHOICES], w.priority)
    return "", None, "Europe/London", None, None, None, None, [], False


def _input(name, day, zone, ceremony, rec_start, rec_end, guests, services, priority) -> WeddingInput:
    try:
        count = int(guests) if guests not in (None, "") else 0
    except (TypeError, ValueError):
        count = 0
    return WeddingInput(name=text(name, "name"), date=text(day, "date"), timezone=text(zone, "timezone"),
                        ceremony_start=text(ceremony, "ceremony start"),
                        reception_start=text(rec_start, "reception start"),
                        reception_end=text(rec_end, "reception end"), guest_count=count,
                        services=tuple(texts(services, "services")), priority=bool(priority))


def _report(report) -> html.Div:
    colour = "success" if report.stored and not report.errors else ("warning" if report.stored else "danger")
    head = (f"Imported {len(report.created_ids)} of {report.rows} row(s)." if report.stored
            else f"Nothing imported: {len(report.errors)} problem(s) in {report.rows} row(s).")
    rows = [html.Tr([html.Td(e.row), html.Td(e.field), html.Td(e.message)]) for e in report.errors]
    table = dbc.Table([html.Thead(html.Tr([html.Th("Line"), html.Th("Column"), html.Th("Problem")])),
                       html.Tbody(rows)], size="sm", id="weddings-import-errors") if rows else None
    return html.Div([dbc.Alert(head, color=colour, className="py-1 small", id="weddings-import-summary"), table])


def register(app: Dash, engine) -> None:
    """Register the editor (``weddings:write``) and the CSV import (``weddings:write``)."""

    @app.callback(Output(NAME, "value"), Output(DATE, "value"), Output(ZONE, "value"), Output(CEREMONY, "value"),
                  Output(RECEPTION_START, "value"), Output(RECEPTION_END, "value"), Output(GUESTS, "value"),
                  Output(SERVICES, "value"), Output(PRIORITY, "value"),
                  Input(EDIT_PICK, "value"), prevent_initial_call=True)
    @guarded(Permission.WEDDINGS_WRITE)
    def load(picked):
        return _form_of(engine, picked)

    @app.callback(Output(FEEDBACK, "children"), Output(TABLE_BOX, "children"), Output(EDIT_PICK, "options"),
                  Input(SAVE, "n_clicks"), Input(CANCEL, "n_clicks"), State(EDIT_PICK, "value"),
                  State(NAME, "value"), State(DATE, "value"), State(ZONE, "value"), State(CEREMONY, "value"),
                  State(RECEPTION_START, "value"), State(RECEPTION_END, "value"), State(GUESTS, "value"),
                  State(SERVICES, "value"), State(PRIORITY, "value"), prevent_initial_call=True)
    @guarded(Permission.WEDDINGS_WRITE)
    def save_or_cancel(_save, _cancel, picked, *fields):
        actor, now = actor_of(current_user), engine.clock.now()
        try:
            with engine.db.session() as session:
                wedding_id = None if picked == NEW else row_id(picked, "wedding")
                if ctx.triggered_id == CANCEL:
                    if wedding_id is None:
                        raise WedscaleError("Pick a wedding to cancel.")
                    row = engine.weddings.cancel(session, wedding_id, actor, now)
                    message = f"Cancelled {row.name}."
                elif wedding_id is None:
                    row = engine.weddings.create(session, _input(*fields), actor, now)
                    message = f"Added {row.name} (#{row.id})."
                else:
                    row = engine.weddings.update(session, wedding_id, _input(*fields), actor, now)
                    message = f"Saved {row.name}."
        except (WedscaleError, ValueError) as exc:
            return (dbc.Alert(getattr(exc, "message", str(exc)), color="danger", className="py-1",
                              id="weddings-error"), no_update, no_update)
        engine.calendar.invalidate()
        return (dbc.Alert(message, color="success", className="py-1", id="weddings-ok"), _table(engine),
                _pick_options(engine))

    @app.callback(Output(IMPORT_REPORT, "children"), Output(TABLE_BOX, "children", allow_duplicate=True),
                  Output(EDIT_PICK, "options", allow_duplicate=True),
                  Input(UPLOAD, "contents"), State(VALID_ONLY, "value"), prevent_initial_call=True)
    @guarded(Permission.WEDDINGS_WRITE)
    def upload(contents, valid_only):
        try:
            contents = text(contents, "upload")
            if "," not in contents:
                raise WedscaleError("Choose a CSV file.")
            csv_text = decode_upload(base64.b64decode(contents.split(",", 1)[1]))
            with engine.db.session() as session:
                report = import_weddings(session, engine.weddings, csv_text,
                                         mode="valid_only" if valid_only else "all_or_nothing",
                                         actor=actor_of(current_user), now=engine.clock.now())
        except (WedscaleError, ValueError) as exc:
            return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", className="py-1 small"), \
                no_update, no_update
        engine.calendar.invalidate()
        return _report(report), _table(engine), _pick_options(engine)


PAGE = PageSpec("/weddings", "Weddings", Permission.WEDDINGS_READ, layout, icon="bi-calendar-heart")
