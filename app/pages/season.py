"""Season page (coordinators and up): the next 12 weeks as a heat map of expected peak load,
each week's peak day, and the capacity and cost the next 48 hours need."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from app.figures_forecast import budget_per_hour, capacity_figure, season_heatmap
from app.pages.base import PageSpec
from engine.errors import WedscaleError
from engine.forecast.season import season_json
from engine.security.permissions import Permission

HEATMAP, WEEKS_TABLE, CAPACITY = "season-heatmap", "season-weeks", "season-capacity"
CAPACITY_HOURS = 48


def _weeks_table(weeks: list[dict]) -> dbc.Table:
    rows = []
    for week in weeks:
        peak = next(d for d in week["days"] if d["date"] == week["peakDay"])
        over = peak["cost"] > peak["budget"]
        rows.append(html.Tr([html.Td(week["start"]), html.Td(peak["date"]), html.Td(f"{peak['peakRps']:.0f}"),
                             html.Td(f"{peak['peakHour']:02d}:00"), html.Td(peak["weddings"]), html.Td(peak["guests"]),
                             html.Td(f"{peak['cost']:.0f} / {peak['budget']:.0f}",
                                     className="text-danger" if over else "")]))
    head = html.Thead(html.Tr([html.Th(h) for h in ("Week of", "Peak day", "Peak req/s", "Peak hour (UTC)",
                                                     "Weddings", "Guests", "Cost / budget")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=WEEKS_TABLE)


def _summary(weeks: list[dict]) -> dbc.Row:
    days = [d for w in weeks for d in w["days"]]
    cost, budget = sum(d["cost"] for d in days), sum(d["budget"] for d in days)
    over = sum(1 for d in days if d["cost"] > d["budget"])
    cards = [("Wedding days", sum(1 for d in days if d["weddings"])),
             ("Weddings", sum(d["weddings"] for d in days)),
             ("Capacity cost, 12 weeks", f"{cost:,.0f}"),
             ("Budget (2.5× on wedding days)", f"{budget:,.0f}"),
             ("Days over budget", over)]
    return dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="small text-body-secondary"),
                                                   html.Div(str(value), className="h5 mb-0")])), md=True)
                    for label, value in cards], className="g-2 mb-3", id="season-summary")


def layout(engine) -> html.Div:
    """Return the Season page (computed on every load from the current models and calendar)."""
    try:
        weeks = season_json(engine.forecasts.season())["weeks"]
        outlook = engine.forecasts.outlook(engine.clock.now(), CAPACITY_HOURS, plan_timeline=False)
    except WedscaleError as exc:
        return html.Div([html.H2("Season", className="h4"),
                         dbc.Alert(exc.message, color="warning", id="season-unavailable")])
    days = [d for w in weeks for d in w["days"]]
    budget_days = [{"date": d.day.isoformat(), "budget": d.budget} for d in outlook.days]
    capacity = capacity_figure(outlook.hours, {n: f.recommended for n, f in outlook.services.items()},
                               outlook.cost_per_hour, budget_per_hour(outlook.hours, budget_days))
    return html.Div([
        html.H2("Season", className="h4"),
        html.P("Expected peak load per day for the next 12 weeks (sum of every service's p50 request "
               "rate at its busiest hour); ♥ marks the weddings booked that day.",
               className="text-body-secondary small"),
        _summary(weeks),
        dcc.Graph(id=HEATMAP, figure=season_heatmap(days), config={"displaylogo": False}),
        html.H3("Peak day of each week", className="h6 mt-3"), _weeks_table(weeks),
        html.H3(f"Capacity for the next {CAPACITY_HOURS} hours", className="h6 mt-3"),
        html.P(f"Cost of the recommended capacity: {outlook.total_cost:,.2f}.", className="small",
               id="season-capacity-cost"),
        dcc.Graph(id=CAPACITY, figure=capacity, config={"displaylogo": False}),
    ])


def register(app: Dash, engine) -> None:
    """The Season page has no callbacks: it is drawn on every page load."""


PAGE = PageSpec("/season", "Season", Permission.FORECASTS_READ, layout, icon="bi-calendar3")
