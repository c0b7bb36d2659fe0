"""Alerts page: open and recent alerts; operators acknowledge or silence them."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import row_id
from app.pages.base import PageSpec
from engine.detect.lifecycle import OPEN_STATES
from engine.errors import WedscaleError
from engine.security.permissions import Permission

TABLE, TICK, PICK, NOTE, ACK = "alerts-table", "alerts-tick", "alerts-pick", "alerts-note", "alerts-ack"
MINUTES, REASON, SILENCE, FEEDBACK = "alerts-minutes", "alerts-reason", "alerts-silence", "alerts-feedback"
_STATE_COLOUR = {"pending": "secondary", "firing": "danger", "acknowledged": "warning",
                 "silenced": "info", "resolved": "success"}
_SEVERITY_COLOUR = {"warning": "warning", "critical": "danger"}


def _rows(engine):
    with engine.db.session() as session:
        return engine.alerts.list_alerts(session)


def _table(rows) -> html.Div:
    if not rows:
        return dbc.Alert("No alerts: every metric is within its thresholds.", color="success",
                         id="alerts-empty")
    body = [html.Tr([
        html.Td(r.id), html.Td(dbc.Badge(r.state, color=_STATE_COLOUR.get(r.state, "secondary"))),
        html.Td(dbc.Badge(r.severity, color=_SEVERITY_COLOUR.get(r.severity, "secondary"))),
        html.Td(r.service), html.Td(r.metric), html.Td(r.summary),
        html.Td(f"{r.fired_at or r.started_at:%Y-%m-%d %H:%M}"),
        html.Td(f"{r.acknowledged_by} · {r.note}" if r.acknowledged_by else r.note),
    ], id=f"alert-row-{r.id}") for r in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "State", "Severity", "Service", "Metric",
                                                     "Summary", "Since (UTC)", "Handled")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True)


def _open_options(rows) -> list[dict]:
    return [{"label": f"#{r.id} {r.service} {r.metric} ({r.state})", "value": r.id}
            for r in rows if r.state in OPEN_STATES]


def _actions(rows) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H3("Handle an alert", className="h6"),
        dbc.Select(id=PICK, options=_open_options(rows), placeholder="choose an open alert", className="mb-2"),
        dbc.Input(id=NOTE, placeholder="note (who is on it, what you saw)", className="mb-2"),
        dbc.Button("Acknowledge", id=ACK, color="warning", className="mb-3"),
        dbc.InputGroup([dbc.Input(id=MINUTES, type="number", min=1, max=1440, value=30),
                        dbc.InputGroupText("minutes")], className="mb-2"),
        dbc.Input(id=REASON, placeholder="reason for silencing (required)", className="mb-2"),
        dbc.Button("Silence", id=SILENCE, color="info", outline=True),
    ]), id="alerts-actions")


def layout(engine) -> html.Div:
    """Return the Alerts page; the action panel only for those who may act."""
    rows = _rows(engine)
    can_act = current_user.can(Permission.ALERTS_ACT)
    return html.Div([
        html.H2("Alerts", className="h4"), html.Div(id=FEEDBACK),
        dbc.Row([dbc.Col(html.Div(_table(rows), id=TABLE), lg=9 if can_act else 12),
                 dbc.Col(_actions(rows), lg=3) if can_act else None]),
        dcc.Interval(id=TICK, interval=10_000),
    ])


def register(app: Dash, engine) -> None:
    """Register the refresh (``alerts:read``) and the actions (``alerts:act``)."""

    @app.callback(Output(TABLE, "children"), Input(TICK, "n_intervals"), prevent_initial_call=True)
    @guarded(Permission.ALERTS_READ)
    def refresh(_n):
        return _table(_rows(engine))

    @app.callback(Output(FEEDBACK, "children"), Output(TABLE, "children", allow_duplicate=True),
                  Output(PICK, "options"),
                  Input(ACK, "n_clicks"), Input(SILENCE, "n_clicks"),
                  State(PICK, "value"), State(NOTE, "value"), State(MINUTES, "value"),
                  State(REASON, "value"), prevent_initial_call=True)
    @guarded(Permission.ALERTS_ACT)
    def act(_ack, _silence, picked, note, minutes, reason):
        try:
            alert_id = row_id(picked, "alert")
            if alert_id is None:
                raise WedscaleError("Choose an open alert first.")
            with engine.db.session() as session:
                if ctx.triggered_id == SILENCE:
                    engine.alerts.silence(session, alert_id, actor_of(current_user), minutes,
                                          reason or "", engine.clock.now())
                    message = f"Alert #{alert_id} silenced for {minutes} minutes."
                else:
                    engine.alerts.acknowledge(session, alert_id, actor_of(current_user), note or "",
                                              engine.clock.now())
                    message = f"Alert #{alert_id} acknowledged."
        except (WedscaleError, ValueError) as exc:
            return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", id="alerts-error"), no_update, no_update
        rows = _rows(engine)
        return dbc.Alert(message, color="success", id="alerts-ok"), _table(rows), _open_options(rows)


PAGE = PageSpec("/alerts", "Alerts", Permission.ALERTS_READ, layout, icon="bi-bell")
