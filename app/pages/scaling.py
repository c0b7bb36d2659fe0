"""Scaling page: instances per service for everyone; manual controls, approvals for operators.

Per service: ready / pending / target, the autoscaler's next recommendation and any pin; the
decision history with filters; a "why did (or didn't) it scale" timeline. A manual order is
reviewed first: the dialog shows the change, its size (standard, large, emergency), the cost
per hour, the rollback plan and whether the autoscaler would override it (unless pinned);
only "Confirm" executes it. "Hand back to auto" ends a pin.
"""

from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user
from sqlalchemy import select

from app.access import actor_of, guarded
from app.callback_values import row_id, text, whole
from app.figures_scaling import DecisionPoint, OrderPoint, why_figure
from app.pages.base import PageSpec
from engine.clock import to_epoch_s
from engine.errors import WedscaleError
from engine.scaling.decision import Category, Trigger
from engine.scaling.manual import ManualRequest
from engine.security.permissions import Permission
from engine.storage.models import DecisionRow, ScaleOrderRow

TABLE, TICK, HISTORY = "scaling-table", "scaling-tick", "scaling-history"
SERVICE, ACTION, COUNT, REASON, REVIEW = ("scale-service", "scale-action", "scale-instances",
                                          "scale-reason", "scale-review")
MODAL, SUMMARY, CONFIRM, CANCEL, FEEDBACK = ("scale-modal", "scale-summary", "scale-confirm",
                                             "scale-cancel", "scale-feedback")
PICK, DECISION_REASON, APPROVE, REJECT = ("approval-pick", "approval-reason", "approval-approve",
                                          "approval-reject")
PIN, UNPIN = "scale-pin-minutes", "scale-unpin"
F_SERVICE, F_TRIGGER, F_CATEGORY = "history-service", "history-trigger", "history-category"
WHY_SERVICE, WHY_GRAPH = "why-service", "why-graph"
WHY_HOURS = 6
ANY = "any"
BG_REASON, BG_MINUTES, BG_TAKE, BG_FEEDBACK = ("breakglass-reason", "breakglass-minutes", "breakglass-take",
                                               "breakglass-feedback")
ACTIONS = [("scale_up", "Scale up (+50 %)"), ("scale_down", "Scale down (−30 %)"),
           ("set", "Set to N instances"), ("emergency_scale", "Emergency: set to N")]
_STATUS_COLOUR = {"executed": "success", "executing": "info", "pending_approval": "warning",
                  "rejected": "secondary", "expired": "secondary", "failed": "danger"}


def _instances(engine) -> dbc.Table:
    now = engine.clock.now()
    plans = engine.autoscaler.preview(engine)
    with engine.db.session() as session:
        pins = engine.pins.active(session, now)
    rows = []
    for spec in engine.services:
        ready, pending = engine.actuator.sizes(spec.name, now)
        plan, pin = plans[spec.name], pins.get(spec.name)
        nxt = (f"→ {plan.decision.to_instances} ({plan.decision.trigger.value})"
               if plan.decision is not None else "keep")
        rows.append(html.Tr([
            html.Td(spec.name), html.Td(ready, id=f"ready-{spec.name}"), html.Td(pending),
            html.Td(ready + pending, id=f"target-{spec.name}"),
            html.Td(nxt, id=f"next-{spec.name}", title=plan.decision.reason if plan.decision else ""),
            html.Td(f"until {pin.pinned_until:%H:%M} ({pin.actor})" if pin else "auto", id=f"pin-{spec.name}"),
            html.Td(f"{spec.min_instances}–{spec.max_instances}"),
            html.Td(f"{(ready + pending) * spec.cost_per_hour:.2f}/h"),
            html.Td("yes" if spec.critical else "no"),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in ("Service", "Ready", "Pending", "Target", "Autoscaler next",
                                                     "Pinned", "Limits", "Cost", "Wedding-critical")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, id=TABLE)


def _history(engine, service=None, trigger=None, category=None):
    def chosen(value):
        # a forged callback may send anything: only a plain string is a filter
        return value if isinstance(value, str) and value not in ("", ANY) else None

    with engine.db.session() as session:
        rows = engine.executor.history(session, service=chosen(service), trigger=chosen(trigger),
                                       category=chosen(category), limit=30)
        body = [html.Tr([html.Td(r.id), html.Td(f"{r.created_at:%m-%d %H:%M:%S}"), html.Td(r.service),
                         html.Td(f"{r.from_instances} → {r.to_instances}"), html.Td(r.trigger),
                         html.Td(r.category),
                         html.Td(dbc.Badge(r.status, color=_STATUS_COLOUR.get(r.status, "secondary"))),
                         html.Td(r.actor), html.Td(r.reason, className="small")]) for r in rows]
        waiting = engine.executor.history(session, status="pending_approval", limit=100)
        pending = [{"label": f"#{r.id} {r.service} {r.from_instances}→{r.to_instances} ({r.actor}, "
                             f"expires {engine.executor.expires_at(r):%H:%M})", "value": r.id} for r in waiting]
    if not body:
        return dbc.Alert("No scaling decisions match.", color="secondary"), pending
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "When (UTC)", "Service", "Change", "Trigger",
                                                     "Category", "Status", "By", "Reason")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True), pending


def _filters(engine) -> dbc.Row:
    def select_of(id_, label, values):
        return dbc.Col(dbc.Select(id=id_, options=[{"label": label, "value": ANY}]
                                  + [{"label": v, "value": v} for v in values], value=ANY, size="sm"), md=4)

    return dbc.Row([select_of(F_SERVICE, "all services", engine.service_names()),
                    select_of(F_TRIGGER, "all triggers", [t.value for t in Trigger]),
                    select_of(F_CATEGORY, "all categories", [c.value for c in Category])],
                   className="g-2 mb-2")


def why_of(engine, service: str):
    """Return the timeline figure of ``service`` over the last ``WHY_HOURS`` hours."""
    import json

    now = engine.clock.now()
    since = now - timedelta(hours=WHY_HOURS)
    spec = next(s for s in engine.services if s.name == service)
    rate = engine.store.series(service, "request_rate", to_epoch_s(since), resolution="1m")
    ready = engine.store.series(service, "instances_ready", to_epoch_s(since), resolution="1m")
    with engine.db.session() as session:
        decisions = [DecisionPoint(r.created_at, r.from_instances, r.to_instances, r.trigger, r.category,
                                   r.status, r.reason, json.loads(r.inputs or "{}").get("forecast_p90_rps"))
                     for r in session.execute(select(DecisionRow).where(
                         DecisionRow.service == service, DecisionRow.created_at >= since)).scalars()]
        orders = [OrderPoint(o.created_at, o.target, o.kind, o.status, o.order_id)
                  for o in session.execute(select(ScaleOrderRow).where(
                      ScaleOrderRow.service == service, ScaleOrderRow.created_at >= since)).scalars()]
    return why_figure(service, rate, ready, spec.capacity_rps, decisions, orders)


def _controls(engine, pending) -> html.Div:
    order = dbc.Card(dbc.CardBody([
        html.H3("Manual scaling", className="h6"),
        dbc.Select(id=SERVICE, options=engine.service_names(), value=engine.service_names()[0], className="mb-2"),
        dbc.Select(id=ACTION, options=[{"label": l, "value": v} for v, l in ACTIONS], value="scale_up",
                   className="mb-2"),
        dbc.Input(id=COUNT, type="number", min=0, placeholder="instances (for set / emergency)", className="mb-2"),
        dbc.Textarea(id=REASON, placeholder="reason (required, audited)", className="mb-2"),
        dbc.InputGroup([dbc.InputGroupText("pin for"),
                        dbc.Input(id=PIN, type="number", min=0, max=240, value=0),
                        dbc.InputGroupText("min")], className="mb-2", size="sm"),
        html.P("0 = the autoscaler may change it at its next cycle.", className="small text-body-secondary"),
        dbc.ButtonGroup([dbc.Button("Review…", id=REVIEW, color="primary"),
                         dbc.Button("Hand back to auto", id=UNPIN, color="secondary", outline=True)]),
    ]), className="mb-3")
    approvals = dbc.Card(dbc.CardBody([
        html.H3("Waiting for approval", className="h6"),
        dbc.Select(id=PICK, options=pending, placeholder="choose a decision", className="mb-2"),
        dbc.Input(id=DECISION_REASON, placeholder="reason (required)", className="mb-2"),
        dbc.ButtonGroup([dbc.Button("Approve", id=APPROVE, color="success"),
                         dbc.Button("Reject", id=REJECT, color="danger", outline=True)]),
    ]))
    modal = dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Confirm scaling")), dbc.ModalBody(id=SUMMARY),
                       dbc.ModalFooter([dbc.Button("Cancel", id=CANCEL, outline=True, color="secondary"),
                                        dbc.Button("Confirm", id=CONFIRM, color="danger")])],
                      id=MODAL, is_open=False)
    breakglass = dbc.Card(dbc.CardBody([
        html.H3("Emergency rights (break-glass)", className="h6"),
        html.P("Take emergency scaling rights for up to 60 minutes. Admins are alerted at once.",
               className="small text-body-secondary"),
        dbc.Input(id=BG_REASON, placeholder="why (required, audited)", className="mb-2"),
        dbc.InputGroup([dbc.Input(id=BG_MINUTES, type="number", min=1, max=60, value=30),
                        dbc.InputGroupText("minutes")], className="mb-2"),
        dbc.Button("Take emergency rights", id=BG_TAKE, color="danger"),
        html.Div(id=BG_FEEDBACK, className="mt-2"),
    ]), className="mt-3") if not current_user.can(Permission.SCALE_EMERGENCY) else None
    return html.Div([order, approvals, breakglass, modal], id="scaling-controls")


def layout(engine) -> html.Div:
    """Return the Scaling page (controls only for those holding ``scale:manual``)."""
    history, pending = _history(engine)
    can_scale = current_user.can(Permission.SCALE_MANUAL)
    names = engine.service_names()
    why = [html.H3("Why did (or didn't) it scale?", className="h6 mt-3"),
           dbc.Select(id=WHY_SERVICE, options=names, value=names[0], className="mb-2", size="sm"),
           dcc.Graph(id=WHY_GRAPH, figure=why_of(engine, names[0]), config={"displaylogo": False})]
    return html.Div([
        html.H2("Scaling", className="h4"), html.Div(id=FEEDBACK),
        dbc.Row([dbc.Col([html.Div(_instances(engine), id=f"{TABLE}-box"),
                          html.H3("Decisions", className="h6 mt-3"), _filters(engine),
                          html.Div(history, id=HISTORY), *why],
                         lg=8 if can_scale else 12),
                 dbc.Col(_controls(engine, pending), lg=4) if can_scale else None]),
        dcc.Interval(id=TICK, interval=max(engine.settings.live_interval_ms, 5000)),
    ])


def _request(service, action, count, reason) -> ManualRequest:
    action = text(action, "action")
    return ManualRequest(action=action, service=text(service, "service"), instances=whole(count, "instances"),
                         reason=text(reason, "reason"), urgency="critical" if action == "emergency_scale" else "high")


def _pin_minutes(pin) -> float | None:
    try:
        minutes = float(pin) if pin not in (None, "") else 0.0
    except (TypeError, ValueError):
        raise WedscaleError("pin minutes must be a number") from None
    return minutes or None


def _override_note(engine, decision, pin) -> html.P:
    """Say whether the autoscaler's next cycle would undo this change (and that a pin stops it)."""
    if _pin_minutes(pin):
        return html.P(f"Pinned for {_pin_minutes(pin):.0f} min: the autoscaler leaves it alone until then.",
                      id="scale-override")
    plan = engine.autoscaler.preview(engine)[decision.service]
    if plan.recommended_instances != decision.to_instances:
        return html.P(f"The autoscaler recommends {plan.recommended_instances} now: without a pin it may "
                      f"change this at its next cycle.", className="text-warning", id="scale-override")
    return html.P("The autoscaler agrees with this size.", id="scale-override")


def _error(exc) -> dbc.Alert:
    return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", id="scale-error")


def register(app: Dash, engine) -> None:
    """Register refresh (``decisions:read``), review/confirm (``scale:manual``), approvals."""

    register_breakglass(app)

    @app.callback(Output(f"{TABLE}-box", "children"), Output(HISTORY, "children"),
                  Input(TICK, "n_intervals"), Input(F_SERVICE, "value"), Input(F_TRIGGER, "value"),
                  Input(F_CATEGORY, "value"), prevent_initial_call=True)
    @guarded(Permission.DECISIONS_READ)
    def refresh(_n, service, trigger, category):
        return _instances(engine), _history(engine, service, trigger, category)[0]

    @app.callback(Output(WHY_GRAPH, "figure"), Input(WHY_SERVICE, "value"), Input(TICK, "n_intervals"),
                  prevent_initial_call=True)
    @guarded(Permission.DECISIONS_READ)
    def why(service, _n):
        if service not in engine.service_names():
            return no_update
        return why_of(engine, service)

    @app.callback(Output(FEEDBACK, "children", allow_duplicate=True), Input(UNPIN, "n_clicks"),
                  State(SERVICE, "value"), prevent_initial_call=True)
    @guarded(Permission.SCALE_MANUAL)
    def hand_back(_n, service):
        try:
            released = engine.release_pin(service or "", actor_of(current_user))
        except WedscaleError as exc:
            return _error(exc)
        message = (f"{service} is handed back to the autoscaler." if released
                   else f"{service} was not pinned; the autoscaler already manages it.")
        return dbc.Alert(message, color="info", id="unpin-ok")

    @app.callback(Output(MODAL, "is_open"), Output(SUMMARY, "children"), Output(FEEDBACK, "children"),
                  Input(REVIEW, "n_clicks"), Input(CANCEL, "n_clicks"),
                  State(SERVICE, "value"), State(ACTION, "value"), State(COUNT, "value"),
                  State(REASON, "value"), State(PIN, "value"), prevent_initial_call=True)
    @guarded(Permission.SCALE_MANUAL)
    def review(_review, _cancel, service, action, count, reason, pin):
        if ctx.triggered_id == CANCEL:
            return False, no_update, no_update
        try:
            if action == "emergency_scale" and not current_user.can(Permission.SCALE_EMERGENCY):
                raise WedscaleError("Emergency scaling needs an admin or break-glass rights (take them below).")
            (decision,) = engine.preview_manual_scale(
                [_request(service, action, count, reason)],
                may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE))
        except (WedscaleError, ValueError) as exc:
            return False, no_update, _error(exc)
        waits = decision.category.value == "requires_approval"
        spec = next(s for s in engine.services if s.name == decision.service)
        summary = html.Div([
            html.P([html.Strong(f"{decision.service}: {decision.from_instances} → {decision.to_instances} instances"),
                    f" ({decision.inputs['size']}{', over budget' if decision.inputs.get('over_budget') else ''})"]),
            html.P(f"Cost afterwards: {decision.cost_per_hour:.2f} per hour "
                   f"({decision.cost_per_hour - decision.from_instances * spec.cost_per_hour:+.2f})."),
            html.P(f"Rollback plan: {decision.rollback_plan}."),
            dbc.Alert("This change will wait for an admin's approval (large or over budget).", color="warning")
            if waits else html.P(f"New instances are ready after about {spec.provisioning_delay_s:.0f} s."),
            _override_note(engine, decision, pin),
        ], id="scale-summary-body")
        return True, summary, no_update

    @app.callback(Output(MODAL, "is_open", allow_duplicate=True),
                  Output(FEEDBACK, "children", allow_duplicate=True),
                  Output(HISTORY, "children", allow_duplicate=True), Output(PICK, "options"),
                  Input(CONFIRM, "n_clicks"), State(SERVICE, "value"), State(ACTION, "value"),
                  State(COUNT, "value"), State(REASON, "value"), State(PIN, "value"), prevent_initial_call=True)
    @guarded(Permission.SCALE_MANUAL)
    def confirm(_n, service, action, count, reason, pin):
        try:
            if action == "emergency_scale" and not current_user.can(Permission.SCALE_EMERGENCY):
                raise WedscaleError("Emergency scaling needs an admin or break-glass rights (take them below).")
            (row,) = engine.request_manual_scale(
                [_request(service, action, count, reason)], actor_of(current_user),
                may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE),
                pin_minutes=_pin_minutes(pin))
        except (WedscaleError, ValueError) as exc:
            return False, _error(exc), no_update, no_update
        history, pending = _history(engine)
        message = {"executed": f"Ordered: {row.service} to {row.to_instances} instances.",
                   "executing": f"Recorded: {row.service} to {row.to_instances}; the actuator did not "
                                f"answer yet, the order is retried.",
                   "pending_approval": f"Decision #{row.id} waits for an admin's approval.",
                   "failed": f"The order for {row.service} failed; see the decision history."}[row.status]
        return False, dbc.Alert(message, color="danger" if row.status == "failed" else "success",
                                id="scale-ok"), history, pending

    @app.callback(Output(FEEDBACK, "children", allow_duplicate=True),
                  Output(HISTORY, "children", allow_duplicate=True),
                  Output(PICK, "options", allow_duplicate=True),
                  Input(APPROVE, "n_clicks"), Input(REJECT, "n_clicks"),
                  State(PICK, "value"), State(DECISION_REASON, "value"), prevent_initial_call=True)
    @guarded(Permission.DECISIONS_APPROVE)
    def decide(_approve, _reject, picked, reason):
        try:
            decision_id = row_id(picked, "decision")
            if decision_id is None:
                raise WedscaleError("Choose a decision first.")
            reason = text(reason, "reason")
            with engine.db.session() as session:
                if ctx.triggered_id == APPROVE:
                    engine.executor.approve(session, decision_id, actor_of(current_user), reason,
                                            engine.clock.now(),
                                            may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE))
                    message = f"Decision #{decision_id} approved and executed."
                else:
                    engine.executor.reject(session, decision_id, actor_of(current_user), reason,
                                           engine.clock.now())
                    message = f"Decision #{decision_id} rejected."
        except (WedscaleError, ValueError) as exc:
            return _error(exc), no_update, no_update
        history, pending = _history(engine)
        return dbc.Alert(message, color="success", id="approval-ok"), history, pending


def register_breakglass(app: Dash) -> None:
    """Register the break-glass button (``breakglass:take``)."""
    from app.api.breakglass import take_breakglass

    @app.callback(Output(BG_FEEDBACK, "children"), Input(BG_TAKE, "n_clicks"),
                  State(BG_MINUTES, "value"), State(BG_REASON, "value"), prevent_initial_call=True)
    @guarded(Permission.BREAKGLASS_TAKE)
    def take(_n, minutes, reason):
        try:
            grant = take_breakglass(minutes, reason or "")
        except WedscaleError as exc:
            return dbc.Alert(exc.message, color="danger", className="py-1 small", id="breakglass-error")
        return dbc.Alert(f"Emergency rights until {grant.expires_at:%H:%M} UTC. Admins were alerted.",
                         color="warning", className="py-1 small", id="breakglass-ok")


PAGE = PageSpec("/scaling", "Scaling", Permission.DECISIONS_READ, layout, icon="bi-arrows-expand")
