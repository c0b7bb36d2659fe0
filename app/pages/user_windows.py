"""The "Access hours" part of the Users page: list, set and clear a user's or a role's window.

The same engine calls as ``wedscale users set-window`` / ``clear-window`` (``make_window``,
``Accounts.get``, ``AccessWindows.set_windows`` / ``clear``), so the console and the CLI
accept and refuse exactly the same input, and every change is audited by the engine.

Self-lockout: a change after which the acting admin could not use the console *now* (their
own window, or their role's when they have none, no longer covers this moment) is not
refused — setting tomorrow's shift for the admin role after hours is a normal thing to do —
but it is not applied until the admin ticks an explicit confirmation and presses the button
again; the audit row then says so. Refusing outright would force admins to the CLI for a
legitimate change; applying silently would sign them out on their next click.
"""

from __future__ import annotations

from zoneinfo import available_timezones

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import text
from engine.errors import InvalidInput, WedscaleError
from engine.security.access_windows import ROLE, USER, WindowChange, window_of
from engine.security.permissions import Permission, Role
from engine.security.time_windows import check_windows, describe, make_window, within

TABLE, SUBJECT, FEEDBACK = "windows-table", "windows-subject", "windows-feedback"
DAYS, START, END, ZONE, ZONES = "windows-days", "windows-start", "windows-end", "windows-zone", "windows-zones"
SET, CLEAR, CONFIRM, CONFIRM_BOX = "windows-set", "windows-clear", "windows-confirm", "windows-confirm-box"
FIELDS = {"days": DAYS, "start": START, "end": END, "timezone": ZONE}   # InvalidInput field -> input
_HINTS = {"days": "Days look like Mon-Fri, Mon,Wed,Fri or Sat-Sun.",
          "start": "Times are 24-hour HH:MM, e.g. 08:00 or 17:30.",
          "end": "Times are 24-hour HH:MM, e.g. 18:00; 24:00 is midnight, an end before the start runs "
                 "past midnight.",
          "timezone": "Use an IANA zone name such as UTC or Europe/London (suggestions appear as you type)."}
CONFIRMED_REASON = "the acting admin confirmed that this change shuts them out now"


class NeedsConfirmation(WedscaleError):
    """The change would shut the acting admin out now and was not confirmed."""


def subject_options(engine) -> list[dict]:
    """Return the roles, then the users, as ``{label, value}`` with value ``role:<id>``/``user:<name>``."""
    roles = [{"label": f"Role: every {r.label}", "value": f"{ROLE}:{r.value}"} for r in Role]
    with engine.db.session() as session:
        users = [{"label": f"User: {u.username}", "value": f"{USER}:{u.username}"}
                 for u in engine.accounts.list_users(session)]
    return roles + users


def _applies_to(kind: str, subject: str) -> str:
    """"every operator" for a role window, the user name for a user's."""
    if kind == ROLE and subject in {r.value for r in Role}:
        return f"every {Role(subject).label}"
    return subject


def windows_table(engine):
    """Return the table of every stored window, with whether it is open now."""
    now = engine.clock.now()
    with engine.db.session() as session:
        rows = engine.access_windows.list_all(session)
        body = [html.Tr([html.Td(r.subject_kind), html.Td(_applies_to(r.subject_kind, r.subject)),
                         html.Td(describe(window_of(r))),
                         html.Td(dbc.Badge("open now", color="success") if within(window_of(r), now)
                                 else dbc.Badge("closed now", color="secondary")),
                         html.Td(f"{r.created_by}, {r.created_at:%Y-%m-%d %H:%M}")]) for r in rows]
    if not body:
        return html.P("No time restriction: everyone may sign in at any time.",
                      className="small text-body-secondary mb-0", id=TABLE)
    head = html.Thead(html.Tr([html.Th(h) for h in ("Kind", "Applies to", "Allowed", "Now", "Set by (UTC)")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, id=TABLE, className="mb-0")


def list_card(engine) -> dbc.Card:
    """Return the card listing the windows (left column of the Users page)."""
    return dbc.Card(dbc.CardBody([
        html.H3("Access hours", className="h6"),
        html.Div(windows_table(engine), id=f"{TABLE}-box"),
        html.P("A user's own window replaces their role's. Outside it every page, callback and API call "
               "is refused; an operator may take break-glass rights in an emergency.",
               className="small text-body-secondary mt-2 mb-0"),
    ]), className="mb-3")


def _field(label: str, ident: str, value: str) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=ident, className="small mb-0"),
                    dbc.Input(id=ident, value=value, placeholder=value)], xs=4)


def form_card(engine) -> dbc.Card:
    """Return the card that sets or clears a window (right column of the Users page)."""
    return dbc.Card(dbc.CardBody([
        html.H3("Set access hours", className="h6"),
        dbc.Select(id=SUBJECT, options=subject_options(engine), placeholder="choose a user or a role",
                   className="mb-2"),
        dbc.Row([_field("Days", DAYS, "Mon-Fri"), _field("From", START, "08:00"), _field("To", END, "18:00")],
                className="g-2 mb-2"),
        dbc.Label("Time zone", html_for=ZONE, className="small mb-0"),
        dbc.Input(id=ZONE, value="UTC", placeholder="e.g. Europe/London", list=ZONES, className="mb-2"),
        html.Datalist([html.Option(value=z) for z in sorted(available_timezones())], id=ZONES),
        html.Div(dbc.Checkbox(id=CONFIRM, value=False, label="Yes, apply it and shut me out now",
                              label_class_name="text-warning"), id=CONFIRM_BOX, hidden=True, className="mb-2"),
        dbc.ButtonGroup([dbc.Button("Set window", id=SET, color="primary"),
                         dbc.Button("Clear window", id=CLEAR, color="secondary", outline=True)]),
        html.Div(id=FEEDBACK, className="mt-2"),
    ]), className="mb-3")


def _subject(value) -> tuple[str, str]:
    kind, _, name = text(value, "subject").partition(":")
    if kind not in (ROLE, USER) or not name:
        raise InvalidInput("Choose a user or a role first.", {"field": "subject"})
    if kind == ROLE and name not in {r.value for r in Role}:
        raise InvalidInput(f"There is no role {name!r}.", {"field": "subject"})
    return kind, name


def _text(value, name: str) -> str:
    return text(value, name).strip()


def apply_change(engine, trigger: str, subject, days, start, end, zone, confirmed) -> str:
    """Set or clear the chosen subject's window; return the success message.

    Raises InvalidInput (bad field, named in ``details["field"]``), NotFound (no such user) or
    NeedsConfirmation (the acting admin would be shut out now and did not confirm).
    """
    kind, name = _subject(subject)
    windows = None if trigger == CLEAR else [make_window(
        _text(days, "days"), _text(start, "from"), _text(end, "to"), _text(zone, "time zone"))]
    now, actor = engine.clock.now(), actor_of(current_user)
    with engine.db.session() as session:
        if kind == USER:
            engine.accounts.get(session, name)
        who, after = engine.access_windows.windows_after_change(
            session, current_user.username, current_user.role.value, WindowChange(kind, name, windows))
        verdict = check_windows(after, now, who)
        if not verdict.allowed and confirmed is not True:
            raise NeedsConfirmation(
                f"Not saved: this change would shut you out right now. Access for {who} would be allowed "
                f"only {'; '.join(describe(w) for w in after)}. Your next click would be refused until then, "
                f"unless you take break-glass rights or someone runs `wedscale users clear-window` on the "
                f"server. To apply it anyway, tick the box and press the button again.")
        reason = "" if verdict.allowed else CONFIRMED_REASON
        who = f"Every {Role(name).label}" if kind == ROLE else name
        if windows is None:
            removed = engine.access_windows.clear(session, kind, name, actor, now, reason=reason)
            after = "their role's hours apply, if it has any" if kind == USER else "they may act at any time"
            return f"{who}: {removed} window(s) removed; {after}."
        engine.access_windows.set_windows(session, kind, name, windows, actor, now, reason=reason)
    return f"{who} may now act only {describe(windows[0])}."


def _message(exc: WedscaleError) -> str:
    field = exc.details.get("field", "")
    if field in _HINTS:
        return f"Not saved: {exc.message}. {_HINTS[field]}"
    return exc.message


def register(app: Dash, engine) -> None:
    """Register the set/clear callback (``users:admin``)."""

    @app.callback(Output(FEEDBACK, "children"), Output(f"{TABLE}-box", "children"),
                  *[Output(FIELDS[f], "invalid") for f in FIELDS],
                  Output(CONFIRM_BOX, "hidden"), Output(CONFIRM, "value"),
                  Input(SET, "n_clicks"), Input(CLEAR, "n_clicks"),
                  State(SUBJECT, "value"), State(DAYS, "value"), State(START, "value"), State(END, "value"),
                  State(ZONE, "value"), State(CONFIRM, "value"), prevent_initial_call=True)
    @guarded(Permission.USERS_ADMIN)
    def change(_set, _clear, subject, days, start, end, zone, confirmed):
        try:
            message = apply_change(engine, ctx.triggered_id, subject, days, start, end, zone, confirmed)
        except NeedsConfirmation as exc:
            alert = dbc.Alert(exc.message, color="warning", id="windows-confirm-needed")
            return alert, no_update, *[False] * len(FIELDS), False, False
        except WedscaleError as exc:
            bad = exc.details.get("field", "")
            alert = dbc.Alert(_message(exc), color="danger", id="windows-error")
            return alert, no_update, *[f == bad for f in FIELDS], no_update, no_update
        alert = dbc.Alert(message, color="success", id="windows-ok")
        return alert, windows_table(engine), *[False] * len(FIELDS), True, False
