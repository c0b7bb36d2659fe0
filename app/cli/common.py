"""Helpers shared by the CLI commands: settings, engine, the CLI's audit actor."""

from __future__ import annotations

import getpass
import os
import sys

import click

from engine.security.audit import Actor

CLI_ACTOR = Actor(f"cli:{getpass.getuser()}", "cli", "local")


def cli_engine(demo: bool = False):
    """Build the engine from the environment for a one-shot command (no scheduler)."""
    from engine.settings import load_settings

    settings = load_settings(demo=demo).with_(run_scheduler=False)
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return checked_engine(settings)


def checked_engine(settings):
    """Build the engine; exit with one line when the database is unreachable or not migrated."""
    from engine.bootstrap import build_engine
    from engine.storage.schema import is_current

    engine = build_engine(settings)
    try:
        current = is_current(engine.db)
    except Exception as exc:
        raise click.ClickException(f"cannot reach the database: {type(exc).__name__}: {exc}") from exc
    if not current:
        raise click.ClickException("the database schema is not current; run `wedscale db upgrade` first")
    return engine


def read_password(prompt: str = "Password") -> str:
    """Prompt twice on a terminal; otherwise read line 1 of stdin (line 2, if any, must match)."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if not lines or not lines[0]:
        raise click.ClickException("no password given on standard input")
    if len(lines) > 1 and lines[1] != lines[0]:
        raise click.ClickException("the two passwords on standard input do not match")
    return lines[0]


def is_demo_env() -> bool:
    """True when WEDSCALE_DEMO=1 is set (what `make run` exports)."""
    return os.environ.get("WEDSCALE_DEMO", "") in ("1", "true", "yes")
