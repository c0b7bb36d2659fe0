"""Security page (admins): security alerts, suspicious events, break-glass grants, time windows."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import row_id
from app.pages.base import PageSpec
from engine.errors import WedscaleError
from engine.security.access_windows import window_of
from engine.security.breakglass import active_grants
from engine.security.permissions import Permission
from engine.security.threat_service import security_alerts, suspicious_events
from engine.security.time_windows import describe

ALERTS, EVENTS, GRANTS, WINDOWS = "security-alerts", "security-events", "security-grants", "security-windows"
GRANT_PICK, REVOKE, FEEDBACK = "security-grant-pick", "security-revoke", "security-feedback"


def _table(header: list[str], rows: list[list], table_id: str, empty: str):
    if not rows:
        return html.P(empty, className="text-body-secondary small", id=table_id)
    head = html.Thead(html.Tr([html.Th(h) for h in header]))
    body = html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])
    return dbc.Table([head, body], size="sm", hover=True, id=table_id)


def _alerts(session):
    return _table(["Alert", "State", "Raised (UTC)", "What"],
                  [[f"#{a.id}", dbc.Badge(a.state, color="danger" if a.state == "firing" else "secondary"),
                    f"{a.started_at:%Y-%m-%d %H:%M}", a.summary] for a in security_alerts(session)],
                  ALERTS, "No open security alert.")


def _events(session, now):
    rows = []
    for e in suspicious_events(session, now):
        permission = json.loads(e.details or "{}").get("permission", "")
        rows.append([f"{e.ts:%m-%d %H:%M:%S}", e.actor, e.source_ip or "–",
                     f"{e.action} {e.outcome}", f"{e.target} {permission}".strip()])
    return _table(["Time (UTC)", "Who", "Address", "Event", "Target"], rows, EVENTS,
                  "No failed sign-in or refusal in the last 24 hours.")


def _grants(engine, session, now):
    grants = active_grants(session, now)
    return _table(["Grant", "Holder", "Reason", "Since (UTC)", "Until (UTC)"],
                  [[f"#{g.id}", name, g.reason, f"{g.started_at:%H:%M}", f"{g.expires_at:%H:%M}"]
                   for g, name in grants], GRANTS, "Nobody holds break-glass rights."), grants


def _windows(engine, session):
    return _table(["Applies to", "Allowed"],
                  [[f"{w.subject_kind} {w.subject}", describe(window_of(w))]
                   for w in engine.access_windows.list_all(session)],
                  WINDOWS, "No time restriction: every role may sign in at any time.")


def layout(engine) -> html.Div:
    """Return the Security page."""
    now = engine.clock.now()
    with engine.db.session() as session:
        alerts, events, windows = _alerts(session), _events(session, now), _windows(engine, session)
        grants_table, grants = _grants(engine, session, now)
    revoke = dbc.InputGroup([
        dbc.Select(id=GRANT_PICK, options=[{"label": f"#{g.id} {name}", "value": str(g.id)} for g, name in grants],
                   placeholder="grant to revoke"),
        dbc.Button("Revoke", id=REVOKE, color="danger", outline=True)], className="mt-2", size="sm")
    card = lambda title, body: dbc.Card(dbc.CardBody([html.H3(title, className="h6"), body]),  # noqa: E731
                                        className="mb-3")
    return html.Div([
        html.H2("Security", className="h4"),
        html.Div(id=FEEDBACK),
        dbc.Row([
            dbc.Col([card("Open security alerts", alerts), card("Suspicious events (24 h)", events)], lg=8),
            dbc.Col([card("Break-glass grants", html.Div([html.Div(grants_table, id=f"{GRANTS}-box"), revoke])),
                     card("Time restrictions", html.Div([
                         windows, html.P(["Set on the ", html.A("Users", href="/users"), " page or with ",
                                                 html.Code("wedscale users set-window"), "."],
                                         className="small text-body-secondary mb-0")]))], lg=4),
        ]),
    ])


def register(app: Dash, engine) -> None:
    """Register the revoke callback (``users:admin``, like the API's DELETE)."""

    @app.callback(Output(FEEDBACK, "children"), Output(f"{GRANTS}-box", "children"),
                  Input(REVOKE, "n_clicks"), State(GRANT_PICK, "value"), prevent_initial_call=True)
    @guarded(Permission.USERS_ADMIN)
    def revoke(_n, grant_id):
        now = engine.clock.now()
        try:
            grant_id = row_id(grant_id, "grant")
            if grant_id is None:
                raise WedscaleError("Choose a grant first.")
            with engine.db.session() as session:
                engine.breakglass.revoke(session, grant_id, actor_of(current_user), now)
        except (WedscaleError, ValueError) as exc:
            return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", id="security-error"), \
                _grants_box(engine, now)
        return dbc.Alert(f"Grant #{grant_id} revoked.", color="success", id="security-ok"), _grants_box(engine, now)


def _grants_box(engine, now):
    with engine.db.session() as session:
        return _grants(engine, session, now)[0]


PAGE = PageSpec("/security", "Security", Permission.SECURITY_READ, layout, icon="bi-shield-lock")
