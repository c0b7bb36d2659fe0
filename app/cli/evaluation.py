"""Evaluation commands: ``detect``, ``backtest``, ``replay``.

They run the same engine code as the live product (``engine.detect``, ``engine.forecast``,
``engine.scaling``); this module only parses arguments and reports errors in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("detect")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="A timestamp,value CSV file or a folder of them (any depth).")
@click.option("--output", "output_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the scored CSVs (created if missing).")
def detect_command(input_path: Path, output_dir: Path) -> None:
    """Score CSV series with the streaming anomaly detector."""
    from engine.detect.batch import detect_path

    try:
        written = detect_path(input_path, output_dir)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(written)} file(s) under {output_dir}")


@click.command("backtest")
@click.option("--input", "input_csv", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--calendar", "calendar_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--horizon-hours", default=24, show_default=True, type=click.IntRange(1, 24 * 14))
@click.option("--origins", required=True, type=click.IntRange(1, 10_000))
@click.option("--output", "output_csv", required=True, type=click.Path(dir_okay=False, path_type=Path))
def backtest_command(input_csv: Path, calendar_csv: Path | None, horizon_hours: int,
                     origins: int, output_csv: Path) -> None:
    """Rolling-origin forecast backtest over an hourly series."""
    from engine.forecast.backtest import run_backtest

    try:
        n_rows = run_backtest(input_csv, output_csv, horizon_hours=horizon_hours,
                              n_origins=origins, calendar_csv=calendar_csv)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {n_rows} forecast rows to {output_csv}")


@click.command("replay")
@click.option("--trace", "trace_csv", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--policy", required=True, type=click.Choice(["wedscale", "hpa", "static", "oracle"]))
@click.option("--calendar", "calendar_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeline", "timeline_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def replay_command(trace_csv: Path, policy: str, calendar_csv: Path | None,
                   timeline_csv: Path | None, as_json: bool) -> None:
    """Replay a demand trace through the simulated cluster under a scaling policy."""
    from engine.scaling.replay import run_replay

    try:
        result = run_replay(trace_csv, policy, calendar_csv=calendar_csv, timeline_csv=timeline_csv)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")
