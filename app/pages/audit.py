"""Audit page (admins): the hash-chained log, filterable and paged, with CSV export."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html
from urllib.parse import urlencode

from app.access import guarded
from app.callback_values import MAX_ID, text as text_of
from app.pages.base import PageSpec
from engine.security.audit import AuditFilter
from engine.security.permissions import Permission

ACTOR, ACTION, OUTCOME, TEXT = "audit-actor", "audit-action", "audit-outcome", "audit-text"
PREV, NEXT, PAGE_NO, TABLE, EXPORT, VERIFY, CHAIN = (
    "audit-prev", "audit-next", "audit-page", "audit-table", "audit-export", "audit-verify",
    "audit-chain")
PAGE_SIZE = 25
OUTCOMES = ["ok", "failed", "denied", "locked", "error"]


def _filters(actor, action, outcome, text) -> AuditFilter:
    return AuditFilter(actor=text_of(actor, "actor").strip() or None,
                       action=text_of(action, "action").strip() or None,
                       outcome=text_of(outcome, "outcome") or None,
                       text=text_of(text, "text").strip() or None)


def _table(engine, filters: AuditFilter, page: int):
    with engine.db.session() as session:
        rows, total = engine.audit.page(session, filters, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        body = [html.Tr([html.Td(r.id), html.Td(f"{r.ts:%Y-%m-%d %H:%M:%S}"), html.Td(r.actor),
                         html.Td(r.role), html.Td(r.action), html.Td(r.target), html.Td(r.outcome),
                         html.Td(r.source_ip), html.Td(r.reason)]) for r in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in
                               ("#", "Time (UTC)", "Who", "Role", "Action", "Target", "Outcome",
                                "From", "Reason")]))
    pages = max(1, -(-total // PAGE_SIZE))
    caption = html.Small(f"{total} row(s) · page {page + 1} of {pages}", className="text-body-secondary",
                         id="audit-count")
    return [dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True), caption], pages


def _export_href(filters: AuditFilter) -> str:
    query = {k: v for k, v in {"format": "csv", "actor": filters.actor, "action": filters.action,
                               "outcome": filters.outcome, "text": filters.text}.items() if v}
    return "/api/audit/export?" + urlencode(query)


def layout(engine) -> html.Div:
    """Return the Audit page (first page, no filter)."""
    table, _pages = _table(engine, AuditFilter(), 0)
    filters = dbc.Row([
        dbc.Col(dbc.Input(id=ACTOR, placeholder="who", debounce=True), md=2),
        dbc.Col(dbc.Input(id=ACTION, placeholder="action, e.g. login", debounce=True), md=3),
        dbc.Col(dbc.Select(id=OUTCOME, options=OUTCOMES, placeholder="any outcome"), md=2),
        dbc.Col(dbc.Input(id=TEXT, placeholder="target or reason contains", debounce=True), md=3),
        dbc.Col(html.A("Export CSV", id=EXPORT, href=_export_href(AuditFilter()),
                       className="btn btn-outline-light w-100"), md=2),
    ], className="g-2 mb-2")
    return html.Div([
        dbc.Row([dbc.Col(html.H2("Audit log", className="h4")),
                 dbc.Col([dbc.Button("Verify chain", id=VERIFY, size="sm", outline=True,
                                     color="info", className="me-2"),
                          html.Span(id=CHAIN)], width="auto")], align="center"),
        filters,
        html.Div(table, id=TABLE),
        dbc.ButtonGroup([dbc.Button("Newer", id=PREV, outline=True, color="secondary", size="sm"),
                         dbc.Button("Older", id=NEXT, outline=True, color="secondary", size="sm")]),
        html.Div(0, id=PAGE_NO, hidden=True),
    ])


def register(app: Dash, engine) -> None:
    """Register the audit callbacks (each checks ``audit:read``)."""

    @app.callback(Output(TABLE, "children"), Output(PAGE_NO, "children"), Output(EXPORT, "href"),
                  Input(ACTOR, "value"), Input(ACTION, "value"), Input(OUTCOME, "value"),
                  Input(TEXT, "value"), Input(PREV, "n_clicks"), Input(NEXT, "n_clicks"),
                  State(PAGE_NO, "children"), prevent_initial_call=True)
    @guarded(Permission.AUDIT_READ)
    def show(actor, action, outcome, text, _prev, _next, page):
        filters = _filters(actor, action, outcome, text)
        # The page number lives in the page; one the page never showed starts again at 0.
        page = page if type(page) is int and 0 <= page <= MAX_ID // PAGE_SIZE else 0
        if ctx.triggered_id == NEXT:
            page += 1
        elif ctx.triggered_id == PREV:
            page = max(0, page - 1)
        else:
            page = 0
        table, pages = _table(engine, filters, page)
        if page >= pages:
            page = pages - 1
            table, pages = _table(engine, filters, page)
        return table, page, _export_href(filters)

    @app.callback(Output(CHAIN, "children"), Input(VERIFY, "n_clicks"), prevent_initial_call=True)
    @guarded(Permission.AUDIT_READ)
    def verify(_n):
        with engine.db.session() as session:
            report = engine.audit.verify(session)
        if report.ok:
            return dbc.Badge(f"chain intact · {report.rows} rows", color="success", id="chain-ok")
        return dbc.Badge(f"chain broken at row {report.bad_id}: {report.problem}", color="danger",
                         id="chain-bad")


PAGE = PageSpec("/audit", "Audit", Permission.AUDIT_READ, layout, icon="bi-journal-check")
