"""Forecast page (coordinators and up): one wedding's day or any day, hour by hour.

Shows per service the p10–p90 band and p50 with the wedding phases shaded, what happened and
what was forecast before (for days that have passed), the recommended instances, the
pre-scale timeline, the day's cost against its budget and the recent accuracy. Every
forecast drawn here is stored (its id is shown). ``/forecast?wedding=ID`` opens a wedding.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import row_id, text
from app.figures_forecast import instances_figure, wedding_day_figure
from app.pages.base import PageSpec
from engine.errors import WedscaleError
from engine.forecast.requests import PredictionRequest
from engine.security.permissions import Permission

PICK, DAY, BODY = "forecast-wedding", "forecast-day", "forecast-body"
BANDS, INSTANCES, TIMELINE = "forecast-bands", "forecast-instances", "forecast-timeline"
PRESCALE, PRESCALE_NOTE, PRESCALE_FEEDBACK = "forecast-prescale", "forecast-prescale-note", "forecast-prescale-feedback"
PAST_DAYS, AHEAD_DAYS = 30, 90


def _options(engine) -> tuple[list[dict], str | None]:
    now = engine.clock.now()
    weddings = [w for w in engine.calendar.all()
                if now - timedelta(days=PAST_DAYS) < w.ceremony_start < now + timedelta(days=AHEAD_DAYS)]
    options = [{"label": f"{w.ceremony_start:%a %d %b %H:%M} UTC · {w.name} ({w.guest_count} guests)"
                         + (" · priority" if w.priority else ""), "value": str(w.id)} for w in weddings]
    upcoming = next((w for w in weddings if w.window_end > now), None)
    return options, (str(upcoming.id) if upcoming else (options[-1]["value"] if options else None))


def layout(engine) -> html.Div:
    """Return the Forecast page: the wedding or day picker; the forecast fills in below."""
    options, default = _options(engine)
    return html.Div([
        html.H2("Forecast", className="h4"),
        dbc.Row([
            dbc.Col([dbc.Label("Wedding", html_for=PICK),
                     dbc.Select(id=PICK, options=options, value=default)], md=7),
            dbc.Col([dbc.Label("or a day (UTC)", html_for=DAY), dbc.Input(id=DAY, type="date")], md=3),
        ], className="mb-3"),
        dcc.Loading(html.Div(id=BODY), type="dot"),
    ])


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _phases(payload: dict, wedding_id: int | None) -> list[tuple[str, datetime, datetime]]:
    return [(p["phase"], _dt(p["start"]), _dt(p["end"])) for p in payload["phases"]
            if wedding_id is None or p["weddingId"] == wedding_id]


def _header(payload: dict, wedding_id: int | None) -> html.Div:
    wedding = next((w for w in payload.get("weddings", []) if w["id"] == wedding_id), None)
    models = ", ".join(f"{s} v{v}" for s, v in payload["modelVersions"].items())
    title = (f"{wedding['name']} — {_dt(wedding['ceremonyStart']).astimezone(ZoneInfo(wedding['timezone'])):%A %d %B %Y, ceremony %H:%M} "
             f"({wedding['timezone']})" if wedding else f"{_dt(payload['start']):%A %d %B %Y} (UTC)")
    badges = []
    if wedding:
        badges.append(dbc.Badge(f"{wedding['guestCount']} guests", color="secondary", className="me-1"))
        if wedding["large"]:
            badges.append(dbc.Badge("large", color="info", className="me-1"))
        if wedding["priority"]:
            badges.append(dbc.Badge("priority", color="warning", text_color="dark", className="me-1"))
    n_weddings = len(payload.get("weddings", []))
    return html.Div([html.H3(title, className="h5 mb-1", id="forecast-title"), html.Div(badges),
                     html.P(f"Forecast #{payload['id']} made {_dt(payload['createdAt']):%Y-%m-%d %H:%M} UTC "
                            f"by models {models}; {n_weddings} wedding(s) in range.",
                            className="small text-body-secondary mt-1")])


def _timeline(payload: dict, zone: str | None) -> html.Div:
    steps = payload["prescaleTimeline"]
    if not steps:
        return dbc.Alert("No pre-scaling needed: the hour before each phase already has the capacity.",
                         color="secondary", id=TIMELINE)
    local = ZoneInfo(zone) if zone else None
    rows = [html.Tr([html.Td(f"{_dt(s['orderAt']):%H:%M}" + (f" ({_dt(s['orderAt']).astimezone(local):%H:%M} local)" if local else "")),
                     html.Td(s["service"]), html.Td(f"#{s['weddingId']} {s['phase']}"),
                     html.Td(f"{_dt(s['phaseStart']):%H:%M}"), html.Td(f"{s['fromInstances']} → {s['toInstances']}"),
                     html.Td(s["standardSteps"]), html.Td(f"{_dt(s['readyBy']):%H:%M}")]) for s in steps]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Order at (UTC)", "Service", "For phase", "Phase starts",
                                                     "Instances", "+50 % steps", "Ready by")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=TIMELINE)


def _costs(payload: dict) -> html.Div:
    costs = payload.get("costs")
    if not costs:
        return html.Div()
    items = [html.Li(f"{d['date']}: {d['cost']:.2f} of a {d['budget']:.2f} budget"
                     + (" (wedding day: 2.5× budget)" if d["weddingDay"] else "")
                     + ("" if d["withinBudget"] else " — over budget"),
                     className="" if d["withinBudget"] else "text-danger") for d in costs["days"]]
    return html.Div([html.H4("Cost of the recommended capacity", className="h6 mt-3"), html.Ul(items, id="forecast-costs")])


def _accuracy(engine) -> dbc.Table:
    pooled = engine.forecasts.accuracy()
    rows = [html.Tr([html.Td(name),
                     html.Td(f"{a.mape * 100:.1f} %" if a else "–"), html.Td(f"{a.coverage * 100:.0f} %" if a else "–"),
                     html.Td(a.n_points if a else 0),
                     html.Td(dbc.Badge("reliable", color="success") if engine.forecast_is_reliable(name)
                             else dbc.Badge("reactive fallback", color="danger"))]) for name, a in pooled.items()]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Service", "MAPE", "p10–p90 coverage", "Hours", "")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", id="forecast-accuracy")


def _prescale_controls(payload: dict, wedding_id: int | None, now: datetime):
    wedding = next((w for w in payload.get("weddings", []) if w["id"] == wedding_id), None)
    if wedding is None or _dt(wedding["windowEnd"]) <= now or not current_user.can(Permission.PRESCALE_REQUEST):
        return None
    return dbc.Card(dbc.CardBody([
        html.H4("Pre-scale for this wedding", className="h6"),
        html.P("Asks the operators to bring every service up to this wedding's forecast need; "
               "it waits for their approval on the Scaling page.", className="small text-body-secondary"),
        dbc.InputGroup([dbc.Input(id=PRESCALE_NOTE, placeholder="note for the operators (optional)"),
                        dbc.Button("Request pre-scale", id=PRESCALE, color="warning")]),
        html.Div(id=PRESCALE_FEEDBACK, className="mt-2"),
    ]), className="mb-3", id="forecast-prescale-card")


def render(engine, payload: dict, wedding_id: int | None) -> html.Div:
    """Return the forecast body for a stored forecast ``payload`` (the predictions API shape)."""
    hours = [_dt(h) for h in payload["hours"]]
    phases = _phases(payload, wedding_id)
    bands = {n: {k: s[k] for k in ("p10", "p50", "p90")} for n, s in payload["services"].items()}
    actual, earlier, note = None, None, ""
    if hours[0] <= engine.clock.now():   # a day that has begun: compare with what happened
        past = engine.forecasts.past_forecast(hours[0], len(hours))
        actual = {n: s["actual"] for n, s in past["services"].items()}
        if past["forecastId"] not in (None, payload["id"]):
            earlier = {n: s["p50"] for n, s in past["services"].items()}
        note = (f"Green: what happened. Dotted: forecast #{past['forecastId']}, made before this day."
                if earlier else "Green: what happened. No forecast was stored before this day to compare with.")
    zone = next((w["timezone"] for w in payload.get("weddings", []) if w["id"] == wedding_id), None)
    return html.Div([
        _header(payload, wedding_id),
        _prescale_controls(payload, wedding_id, engine.clock.now()),
        dcc.Graph(id=BANDS, figure=wedding_day_figure(hours, bands, phases, actual, earlier),
                  config={"displaylogo": False}),
        html.P(note, className="small text-body-secondary"),
        dcc.Graph(id=INSTANCES, figure=instances_figure(hours, {n: s["recommendedInstances"]
                                                               for n, s in payload["services"].items()}, phases),
                  config={"displaylogo": False}),
        html.H4("Pre-scale timeline", className="h6 mt-3"), _timeline(payload, zone),
        _costs(payload),
        html.H4("Recent accuracy (7 days)", className="h6 mt-3"), _accuracy(engine),
    ], id="forecast-view")


def _wedding_from(search: str | None) -> str | None:
    values = parse_qs(text(search, "url search").lstrip("?")).get("wedding")
    return values[0] if values and values[0].isdigit() else None


def register(app: Dash, engine) -> None:
    """Register the forecast view (``forecasts:read``) and the pre-scale request (``prescale:request``)."""

    @app.callback(Output(BODY, "children"), Output(PICK, "value"),
                  Input(PICK, "value"), Input(DAY, "value"), Input("url", "search"))
    @guarded(Permission.FORECASTS_READ)
    def show(picked, day, search):
        wedding, start = None, None
        from_url = _wedding_from(search)
        day = text(day, "day")
        if ctx.triggered_id == DAY and day:
            try:
                start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
            except ValueError:
                return dbc.Alert("Pick a valid day.", color="danger"), no_update
        elif from_url and ctx.triggered_id in (None, "url"):
            wedding = row_id(from_url, "wedding")
        elif picked:
            wedding = row_id(picked, "wedding")
        if wedding is None and start is None:
            return dbc.Alert("No wedding in the calendar around now: pick a day.", color="secondary"), no_update
        request = PredictionRequest(wedding_id=wedding, start=start, horizon_hours=24)
        try:
            payload = engine.forecasts.predict(request, current_user.username)
        except WedscaleError as exc:
            return dbc.Alert(exc.message, color="warning", id="forecast-unavailable"), no_update
        return render(engine, payload, wedding), (str(wedding) if wedding else no_update)

    @app.callback(Output(PRESCALE_FEEDBACK, "children"), Input(PRESCALE, "n_clicks"),
                  State(PICK, "value"), State(PRESCALE_NOTE, "value"), prevent_initial_call=True)
    @guarded(Permission.PRESCALE_REQUEST)
    def prescale(_n, picked, note):
        try:
            wedding = row_id(picked, "wedding")
            if wedding is None:
                raise WedscaleError("Pick a wedding first.")
            rows = engine.request_prescale(wedding, actor_of(current_user), text(note, "note"))
        except (WedscaleError, ValueError) as exc:
            return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", className="py-1 small",
                             id="forecast-prescale-error")
        listed = ", ".join(f"{r.service} {r.from_instances}→{r.to_instances}" for r in rows)
        return dbc.Alert(f"Sent to the operators for approval: {listed}.", color="success",
                         className="py-1 small", id="forecast-prescale-ok")


PAGE = PageSpec("/forecast", "Forecast", Permission.FORECASTS_READ, layout, icon="bi-graph-up-arrow")
