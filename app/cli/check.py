"""``wedscale check --deploy``: gather facts about this environment, print the engine's findings."""

from __future__ import annotations

import os
import runpy
import shutil
import tempfile
from pathlib import Path

import click

from app.cli.common import is_demo_env
from engine.settings import SECRET_KEY_FILE

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _workers(env) -> int:
    """gunicorn's worker count: WEB_CONCURRENCY, else what gunicorn.conf.py computes."""
    if env.get("WEB_CONCURRENCY"):
        return int(env["WEB_CONCURRENCY"])
    if GUNICORN_CONF.exists():
        return int(runpy.run_path(str(GUNICORN_CONF)).get("workers", 1))
    return 1


def _schema(settings) -> tuple[bool | None, str]:
    from engine.storage.db import Database
    from engine.storage.schema import is_current

    db = Database(settings.database_url)
    try:
        return is_current(db), ""
    except Exception as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        db.dispose()


def _can_create_database(settings) -> bool | None:
    """Whether the PostgreSQL user may CREATE DATABASE (verification needs scratch databases)."""
    if settings.is_sqlite:
        return None
    from sqlalchemy import text

    from engine.storage.db import Database

    db = Database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            return bool(conn.scalar(text("SELECT rolcreatedb OR rolsuper FROM pg_roles "
                                         "WHERE rolname = current_user")))
    except Exception:
        return None
    finally:
        db.dispose()


def _redis_reachable(url: str | None) -> bool | None:
    if not url:
        return None
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except Exception:
        return False


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            return True
    except OSError:
        return False


def gather_facts(settings, env):
    """Observe this environment: workers, schema, Redis, backup folder, where the key came from."""
    from engine.backup.files import resolve_backup_dir
    from engine.deploy_check import DeployFacts

    demo_file = Path(settings.var_dir) / SECRET_KEY_FILE
    schema_current, error = _schema(settings)
    backup_dir = resolve_backup_dir(settings)
    return DeployFacts(
        workers=_workers(env), secret_from_env=bool(env.get("WEDSCALE_SECRET_KEY")),
        demo_secret=demo_file.read_text().strip() if demo_file.exists() else None,
        schema_current=schema_current, database_error=error,
        redis_reachable=_redis_reachable(settings.redis_url),
        backup_dir=str(backup_dir), backup_dir_writable=_writable(backup_dir),
        missing_tools=tuple(t for t in ("pg_dump", "pg_restore", "psql") if shutil.which(t) is None),
        can_create_database=_can_create_database(settings))


@click.command("check")
@click.option("--deploy", is_flag=True, help="Check this environment's production configuration.")
def check_command(deploy: bool) -> None:
    """Check the configuration; with --deploy, everything a production deployment needs."""
    from engine.deploy_check import FAIL, check_deployment, has_failures
    from engine.settings import load_settings

    if not deploy:
        raise click.ClickException("nothing to check: use `wedscale check --deploy`")
    env = os.environ
    settings = load_settings(demo=is_demo_env(), env=env)
    findings = check_deployment(settings, gather_facts(settings, env))
    for f in findings:
        click.echo(f"{f.level:<4}  {f.topic}: {f.message}")
        if f.fix and f.level != "OK":
            click.echo(f"      fix: {f.fix}")
    if has_failures(findings):
        n = sum(f.level == FAIL for f in findings)
        raise click.ClickException(f"not ready for production: {n} check(s) failed")
    click.echo("ready for production")
