"""Weddings page (coordinators and up): the upcoming calendar with windows and phases."""

from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import Dash, html

from app.pages.base import PageSpec
from engine.security.permissions import Permission

TABLE = "weddings-table"
SHOWN_DAYS = 60


def layout(engine) -> html.Div:
    """Return the Weddings page: the next two months of weddings."""
    now = engine.clock.now()
    upcoming = [w for w in engine.calendar.all()
                if w.window_end > now and w.ceremony_start < now + timedelta(days=SHOWN_DAYS)]
    rows = [html.Tr([
        html.Td(w.name), html.Td(f"{w.ceremony_start:%a %d %b %Y}"),
        html.Td(f"{w.ceremony_start:%H:%M}"), html.Td(f"{w.reception_start:%H:%M}–{w.reception_end:%H:%M}"),
        html.Td(w.timezone), html.Td(w.guest_count),
        html.Td(dbc.Badge("large", color="info") if w.is_large else ""),
        html.Td(dbc.Badge("priority", color="warning", text_color="dark") if w.priority else ""),
        html.Td(", ".join(w.services)),
    ]) for w in upcoming]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Wedding", "Date", "Ceremony (UTC)",
                                                     "Reception (UTC)", "Venue zone", "Guests",
                                                     "", "", "Services")]))
    body = (dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=TABLE)
            if rows else dbc.Alert("No weddings in the next two months.", color="secondary"))
    return html.Div([html.H2("Weddings", className="h4"),
                     html.P(f"{len(rows)} wedding(s) in the next {SHOWN_DAYS} days.",
                            className="text-body-secondary"), body])


def register(app: Dash, engine) -> None:
    """The Weddings page has no callbacks yet (editing arrives with the calendar work)."""


PAGE = PageSpec("/weddings", "Weddings", Permission.WEDDINGS_READ, layout, icon="bi-calendar-heart")
