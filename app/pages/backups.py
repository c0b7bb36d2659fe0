"""Backups page (admins): history with sizes and verification, RPO/RTO, back up, verify, restore.

A restore replaces the whole database, so its dialog asks for the backup id to be typed; the
callback checks the typed id against the selected row on the server, not only in the browser.
"""

from __future__ import annotations

from pathlib import Path

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.grids import grid_options
from app.callback_values import records, row_id, text
from app.pages.base import PageSpec
from engine.backup.backend import BackupFailed
from engine.backup.verification import seconds_text
from engine.errors import WedscaleError
from engine.security.permissions import Permission

GRID, STATUS, FEEDBACK = "backups-grid", "backups-status", "backups-feedback"
CREATE, VERIFY, OPEN_RESTORE = "backups-create", "backups-verify", "backups-restore-open"
MODAL, TARGET, TYPED, CONFIRM, CANCEL = ("backups-restore-modal", "backups-restore-target",
                                         "backups-restore-typed", "backups-restore-confirm",
                                         "backups-restore-cancel")
COLUMNS = [
    {"field": "id", "headerName": "Id", "width": 80},
    {"field": "created", "headerName": "Taken (UTC)", "width": 170},
    {"field": "kind", "headerName": "Kind", "width": 120},
    {"field": "size", "headerName": "Size", "width": 100},
    {"field": "state", "headerName": "Verification", "width": 120},
    {"field": "restore", "headerName": "Restore", "width": 105},
    {"field": "detail", "headerName": "Detail", "flex": 1, "tooltipField": "detail"},
    {"field": "file", "headerName": "File", "width": 280},
]


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "none verified"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _rows(engine) -> list[dict]:
    return [{"id": r.id, "created": f"{r.created_at:%Y-%m-%d %H:%M:%S}", "kind": r.kind,
             "size": _size(r.size_bytes),
             "state": "not yet" if r.verify_ok is None else ("verified" if r.verify_ok else "FAILED"),
             "restore": seconds_text(r.restore_s),
             "detail": r.verify_detail, "file": Path(r.path).name}
            for r in engine.backups.list()]


def _card(title: str, value: str, note: str, ident: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(title, className="small text-body-secondary"),
        html.Div(value, className="fs-4 fw-semibold", id=ident),
        html.Div(note, className="small text-body-secondary"),
    ])), md=3, className="mb-3")


def _status(engine) -> dbc.Row:
    status = engine.backups.status()
    return dbc.Row([
        _card("Recovery point (RPO)", _age(status.rpo_s), "age of the newest verified backup",
              "backups-rpo"),
        _card("Recovery time (RTO)", seconds_text(status.rto_s),
              "measured restore of that backup into a scratch database", "backups-rto"),
        _card("Backups", f"{status.count} · {_size(status.total_bytes)}",
              "hourly for 2 days, daily for 30, weekly for a year", "backups-count"),
        _card("Folder", engine.backups.backup_dir.name + "/", str(engine.backups.backup_dir), "backups-dir"),
    ])


def _modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Restore a backup")),
        dbc.ModalBody([
            html.P(id=TARGET),
            html.P("The whole database is replaced. A pre-restore backup is taken first, the restore "
                   "is audited, and sessions started after the backup end.", className="small"),
            dbc.Input(id=TYPED, placeholder="type the backup id to confirm", autocomplete="off"),
        ]),
        dbc.ModalFooter([dbc.Button("Cancel", id=CANCEL, color="secondary", outline=True),
                         dbc.Button("Restore", id=CONFIRM, color="danger")]),
    ], id=MODAL, is_open=False)


def layout(engine) -> html.Div:
    """Return the Backups page."""
    buttons = html.Div([
        dbc.Button([html.I(className="bi bi-archive me-1"), "Back up now"], id=CREATE, color="primary",
                   className="me-2"),
        dbc.Button("Verify selected", id=VERIFY, color="secondary", outline=True, className="me-2"),
        dbc.Button("Restore selected…", id=OPEN_RESTORE, color="danger", outline=True),
    ], className="mb-3")
    grid = dag.AgGrid(id=GRID, columnDefs=COLUMNS, rowData=_rows(engine), getRowId="params.data.id",
                      dashGridOptions=grid_options(),
                      style={"height": "480px"})
    return html.Div([
        html.H2("Backups", className="h4"),
        html.Div(_status(engine), id=STATUS),
        buttons,
        html.Div(id=FEEDBACK),
        grid,
        html.P("Verify restores the file into a scratch database, compares every table's row count "
               "and the audit head with the manifest and verifies the restored audit chain.",
               className="small text-body-secondary mt-2"),
        _modal(),
    ])


def _selected_id(selected) -> int:
    rows = records(selected, "selected rows")
    backup_id = row_id(rows[0].get("id"), "backup id") if rows else None
    if backup_id is None:
        raise WedscaleError("Select a backup in the table first.")
    return backup_id


def _act(engine, trigger, selected, typed) -> str:
    """Run the pressed action; return the success message. Raises WedscaleError/BackupFailed."""
    actor = actor_of(current_user)
    if trigger == CREATE:
        row = engine.backups.create("manual", actor)
        return f"Backup {row.id} written ({_size(row.size_bytes)})."
    backup_id = _selected_id(selected)
    if trigger == VERIFY:
        result = engine.backups.verify(backup_id, actor)
        if not result.ok:
            raise WedscaleError(f"Backup {backup_id} failed verification: {result.detail}")
        return f"Backup {backup_id} verified: {result.detail}."
    if text(typed, "typed id").strip() != str(backup_id):
        raise WedscaleError(f"Type the backup id {backup_id} to confirm the restore.")
    result = engine.restore_backup(backup_id, actor)
    return (f"Restored backup {backup_id} in {seconds_text(result.restore_s)}; pre-restore backup "
            f"{result.pre_restore_id} holds what was replaced.")


def register(app: Dash, engine) -> None:
    """Register the backup callbacks (each checks ``backups:admin``)."""

    @app.callback(Output(FEEDBACK, "children"), Output(GRID, "rowData"), Output(STATUS, "children"),
                  Input(CREATE, "n_clicks"), Input(VERIFY, "n_clicks"), Input(CONFIRM, "n_clicks"),
                  State(GRID, "selectedRows"), State(TYPED, "value"), prevent_initial_call=True)
    @guarded(Permission.BACKUPS_ADMIN)
    def act(_create, _verify, _confirm, selected, typed):
        try:
            message = _act(engine, ctx.triggered_id, selected, typed)
        except (WedscaleError, BackupFailed) as exc:
            alert = dbc.Alert(getattr(exc, "message", str(exc)), color="danger", id="backups-error")
            return alert, _rows(engine), _status(engine)
        return dbc.Alert(message, color="success", id="backups-ok"), _rows(engine), _status(engine)

    @app.callback(Output(MODAL, "is_open"), Output(TARGET, "children"), Output(TYPED, "value"),
                  Input(OPEN_RESTORE, "n_clicks"), Input(CANCEL, "n_clicks"), Input(CONFIRM, "n_clicks"),
                  State(GRID, "selectedRows"), prevent_initial_call=True)
    @guarded(Permission.BACKUPS_ADMIN)
    def dialog(_open, _cancel, _confirm, selected):
        if ctx.triggered_id != OPEN_RESTORE:
            return False, no_update, ""
        rows = records(selected, "selected rows")
        if not rows:
            return True, "Select a backup in the table first.", ""
        row = rows[0]
        # The grid's own row: shown as text, the restore itself re-reads the backup by id.
        return True, (f"Restore backup {row.get('id')} taken {row.get('created')} UTC "
                      f"({row.get('kind')}, {row.get('size')})."), ""


PAGE = PageSpec("/backups", "Backups", Permission.BACKUPS_ADMIN, layout, icon="bi-archive")
