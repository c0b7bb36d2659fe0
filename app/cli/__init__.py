"""The ``wedscale`` command line: operator commands and the evaluation commands.

Every command exits non-zero with a one-line reason on failure (``ClickException``).
Heavy imports happen inside the commands so ``wedscale --help`` stays fast.
"""

from __future__ import annotations

import click

from app.cli.admin import (
    alerts_group,
    audit_group,
    db_group,
    demo_group,
    tokens_group,
    users_group,
)
from app.cli.backup import backup_group
from app.cli.check import check_command
from app.cli.evaluation import backtest_command, detect_command, replay_command
from app.cli.serve import engine_command, serve_command


class _Group(click.Group):
    """Turns an unusable ``WEDSCALE_CONFIG`` into the one-line exit every command promises."""

    def invoke(self, ctx: click.Context):
        from engine.config_model import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"bad configuration: {exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Wedscale: the scalability console of a wedding-services platform."""


for _command in (serve_command, engine_command, db_group, demo_group, users_group, tokens_group,
                 audit_group, alerts_group, backup_group, check_command, detect_command, backtest_command,
                 replay_command):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="wedscale")
