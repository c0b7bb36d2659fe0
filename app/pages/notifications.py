"""Notifications page (admins): the outbox's recent deliveries to webhook and e-mail channels.

Placed in the Admin menu next to Health rather than on the Alerts page, which every role
reads: delivery targets and channel errors are operator plumbing, not alert content. Reading
needs ``health:read`` (like the Health page); "Retry now" changes the outbox, so it needs
``settings:admin``. A retry only makes the failed delivery due again: the leader's delivery
job (every few seconds) sends it, so the web worker never talks to a channel.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import records, row_id, text
from app.grids import grid_options
from app.pages.base import PageSpec
from engine.detect.delivery_view import DeliveryLine, channel_targets, delivery_line
from engine.detect.outbox import FAILED, QUEUED, RETRYING, SENT
from engine.errors import WedscaleError
from engine.security.permissions import Permission

GRID, FILTER, SUMMARY, TICK = "deliveries-grid", "deliveries-status", "deliveries-summary", "deliveries-tick"
RETRY, FEEDBACK = "deliveries-retry", "deliveries-feedback"
LIMIT = 200
# Filter value -> stored status ("pending" is what the outbox calls "queued").
FILTERS = {"all": None, "pending": QUEUED, "retrying": RETRYING, "sent": SENT, "failed": FAILED}
_STATUS_CLASSES = {"text-danger fw-semibold": "params.value === 'failed'",
                   "text-warning": "params.value === 'retrying'",
                   "text-info": "params.value === 'pending'",
                   "text-success": "params.value === 'sent'"}
COLUMNS = [
    {"field": "id", "headerName": "Id", "width": 75},
    # Text, not inferred dates: AG Grid would infer "dateString" from the first row and blank "–".
    {"field": "time", "headerName": "Queued (UTC)", "width": 165, "cellDataType": "text"},
    {"field": "channel", "headerName": "Channel", "width": 120},
    {"field": "target", "headerName": "Target", "width": 290, "tooltipField": "target"},
    {"field": "subject", "headerName": "Alerts / subject", "flex": 2, "minWidth": 260, "tooltipField": "subject"},
    {"field": "status", "headerName": "Status", "width": 105, "cellClassRules": _STATUS_CLASSES},
    {"field": "attempts", "headerName": "Attempts", "width": 100},
    {"field": "next_at", "headerName": "Next attempt (UTC)", "width": 165, "cellDataType": "text"},
    {"field": "error", "headerName": "Last error", "flex": 1, "minWidth": 180, "tooltipField": "error"},
]


def _stamp(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "–"


def _row(line: DeliveryLine) -> dict:
    subject = f"{line.alerts} · {line.subject}" if line.alerts else line.subject
    return {"id": line.id, "time": _stamp(line.created_at), "channel": line.channel, "target": line.target,
            "subject": subject, "status": line.status, "attempts": line.attempts,
            "next_at": _stamp(line.next_attempt_at), "error": line.last_error or "–"}


def _status_of(chosen) -> str | None:
    """The stored status for a filter value; an unknown value (a forged request) is a 400."""
    chosen = text(chosen, "status filter")
    if chosen == "":
        return None
    if chosen not in FILTERS:
        raise ValueError(f"unknown status filter {chosen!r}")
    return FILTERS[chosen]


def _rows(engine, status: str | None) -> list[dict]:
    targets = channel_targets(engine.outbox.config, engine.outbox.channels)
    with engine.db.session() as session:
        return [_row(delivery_line(r, targets)) for r in engine.outbox.recent(session, LIMIT, status)]


def _summary(engine) -> html.Span:
    with engine.db.session() as session:
        counts = engine.outbox.counts(session)
    parts = [f"{counts[stored]} {label}" for label, stored in FILTERS.items() if stored]
    channels = ", ".join(sorted(engine.outbox.channels)) or "none configured"
    return html.Span(f"{' · '.join(parts)} — channels: {channels}. Newest {LIMIT} shown.",
                     className="small text-body-secondary", id="deliveries-counts")


def layout(engine) -> html.Div:
    """Return the Notifications page: all statuses, newest first."""
    controls = dbc.Row([
        dbc.Col(dbc.InputGroup([dbc.InputGroupText("Status"),
                                dbc.Select(id=FILTER, options=list(FILTERS), value="all")], size="sm"), md=3),
        dbc.Col(dbc.Button([html.I(className="bi bi-arrow-repeat me-1"), "Retry selected failed delivery"],
                           id=RETRY, color="warning", outline=True, size="sm"), width="auto"),
        dbc.Col(html.Div(_summary(engine), id=SUMMARY), className="align-self-center"),
    ], className="g-2 mb-2")
    grid = dag.AgGrid(id=GRID, columnDefs=COLUMNS, rowData=_rows(engine, None), getRowId="params.data.id",
                      dashGridOptions=grid_options(), style={"height": "520px"})
    return html.Div([
        html.H2("Notification deliveries", className="h4"),
        controls,
        html.Div(id=FEEDBACK),
        grid,
        html.P("Alerts firing together are grouped into one message per channel. Pending: collecting "
               "its group or waiting for the next delivery run. Failed attempts are retried with "
               "doubling back-off; after the last attempt the delivery is failed. A retry gives a "
               "failed delivery one more attempt within seconds. Webhook paths and credentials are "
               "hidden: they are often the secret.", className="small text-body-secondary mt-2"),
        dcc.Interval(id=TICK, interval=15_000),
    ])


def register(app: Dash, engine) -> None:
    """Register the refresh (``health:read``) and the retry (``settings:admin``)."""

    @app.callback(Output(GRID, "rowData"), Output(SUMMARY, "children"),
                  Input(FILTER, "value"), Input(TICK, "n_intervals"), prevent_initial_call=True)
    @guarded(Permission.HEALTH_READ)
    def show(chosen, _n):
        return _rows(engine, _status_of(chosen)), _summary(engine)

    @app.callback(Output(FEEDBACK, "children"), Output(GRID, "rowData", allow_duplicate=True),
                  Output(SUMMARY, "children", allow_duplicate=True),
                  Input(RETRY, "n_clicks"), State(GRID, "selectedRows"), State(FILTER, "value"),
                  prevent_initial_call=True)
    @guarded(Permission.SETTINGS_ADMIN)
    def retry(_n, selected, chosen):
        status = _status_of(chosen)
        try:
            rows = records(selected, "selected rows")
            if not rows:
                raise WedscaleError("Select a failed delivery in the table first.")
            delivery_id = row_id(rows[0].get("id"), "delivery id")
            if delivery_id is None:
                raise WedscaleError("Select a failed delivery in the table first.")
            with engine.db.session() as session:
                engine.outbox.retry_now(session, delivery_id, actor_of(current_user), engine.clock.now())
        except WedscaleError as exc:
            alert = dbc.Alert(exc.message, color="danger", id="deliveries-error", dismissable=True)
            return alert, _rows(engine, status), _summary(engine)
        alert = dbc.Alert(f"Delivery #{delivery_id} will be attempted again within seconds.",
                          color="success", id="deliveries-ok", dismissable=True)
        return alert, _rows(engine, status), _summary(engine)


PAGE = PageSpec("/notifications", "Notifications", Permission.HEALTH_READ, layout, icon="bi-send")
