"""``serve`` (the web console) and ``engine`` (the engine jobs as their own process)."""

from __future__ import annotations

import logging
import signal
import threading

import click

from app.cli.common import checked_engine
from engine.settings import INSECURE_DEFAULT_SECRET, Settings


def refuse_insecure(settings: Settings) -> None:
    """Refuse to run outside demo mode with the placeholder secret key."""
    if not settings.demo and settings.secret_key in ("", INSECURE_DEFAULT_SECRET):
        raise click.ClickException(
            "WEDSCALE_SECRET_KEY is not set: refusing to start outside demo mode with the default "
            "secret key (set it to a long random value, the same in every worker)")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "apscheduler", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), envvar="PORT", default=8050, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--demo", is_flag=True, help="Demo mode: demo users, banner, generated secret key.")
def serve_command(port: int, host: str, demo: bool) -> None:
    """Serve the console (Dash dev server; use gunicorn via the Procfile in production)."""
    from engine.settings import load_settings

    settings = load_settings(demo=demo)
    refuse_insecure(settings)
    from app import create_app
    from app.runtime import start_engine

    _configure_logging()
    engine = checked_engine(settings)
    app = create_app(engine=engine)
    start_engine(engine)
    url = f"http://{host}:{port}"
    click.echo(f"\n  Wedscale console: {url}")
    if demo:
        click.echo("  Demo mode. Sign in as admin, operator, coordinator or viewer; password: demo\n")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@click.command("engine")
def engine_command() -> None:
    """Run the engine jobs in this process (leader election included) until stopped."""
    from app.runtime import start_engine
    from engine.settings import load_settings

    _configure_logging()
    settings = load_settings()
    refuse_insecure(settings)
    engine = checked_engine(settings)
    runner = start_engine(engine)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo("engine running; waiting for the leader lock (Ctrl-C to stop)")
    stop.wait()
    runner.stop()
