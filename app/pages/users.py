"""Users page (admins): list users, create one, change a role, disable or enable, and set
access hours (``app.pages.user_windows``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from app.access import actor_of, guarded
from app.callback_values import text
from app.pages import user_windows
from app.pages.base import PageSpec
from engine.errors import WedscaleError
from engine.security.permissions import Permission, Role

TABLE = "users-table"
NEW_NAME, NEW_ROLE, NEW_PASSWORD, CREATE = "users-new-name", "users-new-role", "users-new-password", "users-create"
PICK, PICK_ROLE, SET_ROLE, DISABLE, ENABLE = ("users-pick", "users-pick-role", "users-set-role",
                                              "users-disable", "users-enable")
FEEDBACK = "users-feedback"
ROLE_OPTIONS = [{"label": f"{r.label} ({r.value})", "value": r.value} for r in Role]


def _table(engine) -> dbc.Table:
    with engine.db.session() as session:
        users = engine.accounts.list_users(session)
        rows = [html.Tr([html.Td(u.username), html.Td(Role(u.role).label),
                         html.Td(dbc.Badge("disabled", color="secondary") if u.disabled
                                 else dbc.Badge("active", color="success")),
                         html.Td(f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never")])
                for u in users]
    head = html.Thead(html.Tr([html.Th("User"), html.Th("Role"), html.Th("State"), html.Th("Last sign-in (UTC)")]))
    return dbc.Table([head, html.Tbody(rows)], hover=True, size="sm", id=TABLE)


def _names(engine) -> list[str]:
    with engine.db.session() as session:
        return [u.username for u in engine.accounts.list_users(session)]


def layout(engine) -> html.Div:
    """Return the Users page."""
    create = dbc.Card(dbc.CardBody([
        html.H3("Create a user", className="h6"),
        dbc.Input(id=NEW_NAME, placeholder="user name", className="mb-2"),
        dbc.Select(id=NEW_ROLE, options=ROLE_OPTIONS, value=Role.SCALABILITY_VIEWER.value, className="mb-2"),
        dbc.Input(id=NEW_PASSWORD, type="password", placeholder="initial password", className="mb-2"),
        dbc.Button("Create", id=CREATE, color="primary"),
    ]), className="mb-3")
    change = dbc.Card(dbc.CardBody([
        html.H3("Change a user", className="h6"),
        dbc.Select(id=PICK, options=_names(engine), placeholder="choose a user", className="mb-2"),
        dbc.Select(id=PICK_ROLE, options=ROLE_OPTIONS, placeholder="new role", className="mb-2"),
        dbc.ButtonGroup([dbc.Button("Set role", id=SET_ROLE, color="primary"),
                         dbc.Button("Disable", id=DISABLE, color="danger", outline=True),
                         dbc.Button("Enable", id=ENABLE, color="success", outline=True)]),
        html.P("A role change or a disable ends all of that user's sessions at once.",
               className="small text-body-secondary mt-2 mb-0"),
    ]), className="mb-3")
    return html.Div([
        html.H2("Users and roles", className="h4"),
        html.Div(id=FEEDBACK),
        dbc.Row([dbc.Col([html.Div(_table(engine), id=f"{TABLE}-box", className="mb-3"),
                          user_windows.list_card(engine)], lg=7),
                 dbc.Col([create, change, user_windows.form_card(engine)], lg=5)]),
    ])


def register(app: Dash, engine) -> None:
    """Register the user-management callbacks (each checks ``users:admin``)."""
    user_windows.register(app, engine)

    @app.callback(Output(FEEDBACK, "children"), Output(f"{TABLE}-box", "children"),
                  Output(PICK, "options"), Output(user_windows.SUBJECT, "options"),
                  Input(CREATE, "n_clicks"), Input(SET_ROLE, "n_clicks"), Input(DISABLE, "n_clicks"),
                  Input(ENABLE, "n_clicks"),
                  State(NEW_NAME, "value"), State(NEW_ROLE, "value"), State(NEW_PASSWORD, "value"),
                  State(PICK, "value"), State(PICK_ROLE, "value"), prevent_initial_call=True)
    @guarded(Permission.USERS_ADMIN)
    def act(_c, _s, _d, _e, name, role, password, picked, picked_role):
        actor = actor_of(current_user)
        try:
            name, role, password = text(name, "name").strip(), text(role, "role"), text(password, "password")
            picked, picked_role = text(picked, "user"), text(picked_role, "new role")
            with engine.db.session() as session:
                if ctx.triggered_id == CREATE:
                    engine.accounts.create_user(session, name, password, role, actor)
                    message = f"Created user {name}."
                elif not picked:
                    raise WedscaleError("Choose a user first.")
                elif ctx.triggered_id == SET_ROLE:
                    if not picked_role:
                        raise WedscaleError("Choose the new role.")
                    engine.accounts.set_role(session, picked, picked_role, actor)
                    message = f"{picked} is now {Role(picked_role).label}; their sessions were ended."
                else:
                    disable = ctx.triggered_id == DISABLE
                    if disable and picked == current_user.username:
                        raise WedscaleError("You cannot disable your own account.")
                    engine.accounts.set_disabled(session, picked, disable, actor)
                    message = f"{picked} {'disabled' if disable else 'enabled'}."
        except (WedscaleError, ValueError) as exc:
            return dbc.Alert(getattr(exc, "message", str(exc)), color="danger", id="users-error"), \
                no_update, no_update, no_update
        return (dbc.Alert(message, color="success", id="users-ok"), _table(engine), _names(engine),
                user_windows.subject_options(engine))


PAGE = PageSpec("/users", "Users", Permission.USERS_ADMIN, layout, icon="bi-people")
