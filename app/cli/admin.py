"""Operator commands: ``db``, ``demo``, ``users``, ``tokens``, ``audit``."""

from __future__ import annotations

import sys

import click

from app.cli.common import CLI_ACTOR, cli_engine, read_password
from engine.errors import WedscaleError
from engine.security.permissions import Role


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(getattr(exc, "message", None) or str(exc))


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (creates the SQLite file if needed)."""
    from engine.settings import load_settings
    from engine.storage.schema import upgrade

    settings = load_settings()
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        raise click.ClickException(f"migration failed: {type(exc).__name__}: {exc}") from exc
    click.echo("database schema is current")


@click.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("seed")
@click.option("--users", "with_users", is_flag=True, help="Also create the four demo users (password demo).")
def demo_seed(with_users: bool) -> None:
    """Seed the demo wedding calendar (idempotent); with --users, the demo users too."""
    from seeds.demo import seed_demo

    engine = cli_engine(demo=True)
    n_weddings, n_users = seed_demo(engine, with_users=with_users)
    click.echo(f"seeded {n_weddings} wedding(s) and {n_users} user(s)")


@click.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
def users_create(name: str, role: str) -> None:
    """Create a user; the password is prompted (or read from stdin)."""
    engine = cli_engine()
    password = read_password()
    try:
        with engine.db.session() as session:
            engine.accounts.create_user(session, name, password, role, CLI_ACTOR)
    except (WedscaleError, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"created {name} ({role})")


@users_group.command("list")
def users_list() -> None:
    """List users with their role and state."""
    engine = cli_engine()
    with engine.db.session() as session:
        for user in engine.accounts.list_users(session):
            state = "disabled" if user.disabled else "active"
            click.echo(f"{user.username}\t{user.role}\t{state}")


@users_group.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def users_set_role(name: str, role: str) -> None:
    """Change a user's role (ends their sessions)."""
    engine = cli_engine()
    try:
        with engine.db.session() as session:
            engine.accounts.set_role(session, name, role, CLI_ACTOR)
    except (WedscaleError, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"{name} is now {role}")


@users_group.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable a user (ends their sessions; their tokens stop working)."""
    engine = cli_engine()
    try:
        with engine.db.session() as session:
            engine.accounts.set_disabled(session, name, True, CLI_ACTOR)
    except WedscaleError as exc:
        raise _fail(exc) from exc
    click.echo(f"{name} disabled")


def _window_subject(name: str | None, role: str | None) -> tuple[str, str]:
    if bool(name) == bool(role):
        raise click.ClickException("give either a user NAME or --role ROLE")
    return ("role", role) if role else ("user", name)


@users_group.command("set-window")
@click.argument("name", required=False)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="Restrict a role instead of one user.")
@click.option("--days", required=True, help="Weekdays, e.g. Mon-Sat or Mon,Wed,Fri.")
@click.option("--start", required=True, help="Local start time HH:MM.")
@click.option("--end", required=True, help="Local end time HH:MM (before start: runs past midnight).")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone.")
def users_set_window(name: str | None, role: str | None, days: str, start: str, end: str,
                     timezone: str) -> None:
    """Limit a user (or a role) to a time window; outside it every request is refused."""
    from engine.security.time_windows import describe, make_window

    kind, subject = _window_subject(name, role)
    engine = cli_engine()
    try:
        window = make_window(days, start, end, timezone)
        with engine.db.session() as session:
            if kind == "user":
                engine.accounts.get(session, subject)
            engine.access_windows.set_windows(session, kind, subject, [window], CLI_ACTOR,
                                              engine.clock.now())
    except (WedscaleError, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"{kind} {subject} may act {describe(window)}")


@users_group.command("clear-window")
@click.argument("name", required=False)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
def users_clear_window(name: str | None, role: str | None) -> None:
    """Remove a user's (or a role's) time restriction."""
    kind, subject = _window_subject(name, role)
    engine = cli_engine()
    with engine.db.session() as session:
        n = engine.access_windows.clear(session, kind, subject, CLI_ACTOR, engine.clock.now())
    click.echo(f"{kind} {subject}: {n} window(s) removed")


@users_group.command("windows")
def users_windows() -> None:
    """List the time restrictions."""
    from engine.security.access_windows import window_of
    from engine.security.time_windows import describe

    engine = cli_engine()
    with engine.db.session() as session:
        for row in engine.access_windows.list_all(session):
            click.echo(f"{row.subject_kind}\t{row.subject}\t{describe(window_of(row))}")


@click.group("tokens")
def tokens_group() -> None:
    """API bearer tokens."""


@tokens_group.command("create")
@click.option("--user", "username", required=True)
@click.option("--scope", "scopes", multiple=True, help="Narrow the token to this permission (repeatable).")
@click.option("--expires-days", type=int, default=None)
def tokens_create(username: str, scopes: tuple[str, ...], expires_days: int | None) -> None:
    """Issue a token; prints its id, then the token itself as the last word (shown once)."""
    engine = cli_engine()
    try:
        with engine.db.session() as session:
            user = engine.accounts.get(session, username)
            row, token = engine.tokens.create(session, user, list(scopes), expires_days, CLI_ACTOR)
    except (WedscaleError, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"token id {row.id} for {username}; store it now, it is not shown again:")
    click.echo(token)


@tokens_group.command("list")
@click.option("--user", "username", default=None)
def tokens_list(username: str | None) -> None:
    """List tokens (never the token text)."""
    engine = cli_engine()
    try:
        with engine.db.session() as session:
            user = engine.accounts.get(session, username) if username else None
            for row, owner in engine.tokens.list(session, user):
                state = "revoked" if row.revoked_at else "active"
                expires = row.expires_at.isoformat() if row.expires_at else "never"
                click.echo(f"{row.id}\t{owner}\t{state}\texpires {expires}\tscopes {row.scopes or 'all'}")
    except WedscaleError as exc:
        raise _fail(exc) from exc


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    engine = cli_engine()
    try:
        with engine.db.session() as session:
            engine.tokens.revoke(session, token_id, CLI_ACTOR)
    except WedscaleError as exc:
        raise _fail(exc) from exc
    click.echo(f"token {token_id} revoked")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Exit 0 when the chain and its checkpoint verify; 1 naming the first bad row."""
    engine = cli_engine()
    with engine.db.session() as session:
        report = engine.audit.verify(session)
    if report.ok:
        click.echo(f"audit chain intact: {report.rows} row(s)")
        return
    click.echo(f"audit chain broken at row {report.bad_id}: {report.problem}", err=True)
    sys.exit(1)


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
def audit_export(fmt: str) -> None:
    """Write the whole audit log to stdout as CSV or JSON Lines."""
    from engine.security.audit_export import render_export

    engine = cli_engine()
    with engine.db.session() as session:
        click.echo(render_export(engine.audit.iter_all(session), fmt), nl=False)


@click.group("alerts")
def alerts_group() -> None:
    """Alerts."""


@alerts_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every alert.")
@click.option("--open", "open_only", is_flag=True, help="Only alerts that are not resolved.")
def alerts_list(as_json: bool, open_only: bool) -> None:
    """List alerts, open ones first."""
    import json

    from engine.detect.alert_service import alert_json

    engine = cli_engine()
    with engine.db.session() as session:
        rows = engine.alerts.list_alerts(session, open_only=open_only)
        if as_json:
            click.echo(json.dumps({"alerts": [alert_json(r) for r in rows]}))
            return
        for row in rows:
            click.echo(f"{row.id}\t{row.state}\t{row.severity}\t{row.service}/{row.metric}\t{row.summary}")
