"""``wedscale replay``: a demand trace through the simulated cluster under one policy.

The protocol is ``../shared/benchmarks/REPLAY_PROTOCOL.md``: 15 s steps, 120 s provisioning,
a metric lagged by 30 s, and the policies ``wedscale`` (the product's own ``engine.scaling``
policy, see ``replay_wedscale``), ``hpa``, ``static`` and ``oracle`` (``replay_reference``).
This module reads and checks the inputs, runs the cluster, scores the run and writes the
optional timeline; every bad input is a ``ValueError`` with a one-line message.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from engine.scaling.replay_cluster import ClusterModel, SimulationResult, minute_to_steps, simulate
from engine.scaling.replay_reference import HpaPolicy, oracle_from, static_from
from engine.scaling.replay_score import ScoredRun, first_scored_step, score_run
from engine.scaling.replay_wedscale import WedscalePolicy, replay_weddings

POLICIES = ("wedscale", "hpa", "static", "oracle")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MIN_MINUTES = 60


@dataclass(frozen=True)
class Trace:
    """A demand trace: the first row's time and one demand per minute (requests/s)."""

    name: str
    start: datetime
    demand_per_minute: np.ndarray


@dataclass(frozen=True)
class Calendar:
    """Ceremonies of a wedding trace: naive starts (trace clock), guests, expected peaks."""

    starts: list[datetime]
    guests: list[int]
    peaks_rps: list[float]


def run_replay(trace_csv: Path, policy: str, *, calendar_csv: Path | None = None,
               timeline_csv: Path | None = None) -> dict:
    """Replay ``trace_csv`` under ``policy`` and return the protocol's metrics.

    Parameters
    ----------
    trace_csv : Path
        CSV ``timestamp,demand_rps``, one row per minute without gaps.
    policy : str
        ``wedscale``, ``hpa``, ``static`` or ``oracle``.
    calendar_csv : Path, optional
        CSV ``date,start_time,guest_count,expected_peak_rps`` (wedding traces); adds
        ``ceremonies_ready_frac`` and ``ceremonies_scored``; ``wedscale`` uses it.
    timeline_csv : Path, optional
        Where to write ``timestamp,demand_rps,ready,ordered``, one row per 15 s step.

    Returns
    -------
    dict
        JSON-able: ``policy``, ``trace``, ``scored_minutes``, ``under_provisioned_time_frac``,
        ``unserved_demand_frac``, ``instance_hours``, ``cost_ratio_vs_oracle``,
        ``scaling_actions``, ``mean_utilization``, ``peak_instances``, the ceremony figures
        with a calendar, and for ``wedscale`` the count of decisions by trigger/category.

    Raises
    ------
    ValueError
        Unknown policy, unreadable or malformed trace or calendar.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    trace = read_trace(Path(trace_csv))
    calendar = read_calendar(Path(calendar_csv)) if calendar_csv is not None else None
    model = ClusterModel()
    demand = minute_to_steps(trace.demand_per_minute, model.step_s)
    oracle = oracle_from(demand, model)
    step_policy = _build(policy, trace, calendar, demand, model, oracle)
    result = simulate(demand, step_policy, model)
    steps_per_day = 86400 // model.step_s
    run = ScoredRun(trace.start, demand, result.ready, result.ordered,
                    first_scored_step(len(demand), steps_per_day))
    scores = score_run(run, model, calendar.starts if calendar else None)
    oracle_hours = _oracle_instance_hours(oracle.plan, run.first_scored_step, model)
    out = {"policy": policy, "trace": trace.name, **scores}
    out["cost_ratio_vs_oracle"] = out["instance_hours"] / oracle_hours
    if policy == "wedscale":
        out["decisions"] = dict(sorted(step_policy.decisions.items()))
    if timeline_csv is not None:
        write_timeline(Path(timeline_csv), trace.start, demand, result, model)
    return out


def _build(policy: str, trace: Trace, calendar: Calendar | None, demand: np.ndarray,
           model: ClusterModel, oracle):
    """Return the step policy named ``policy`` for this trace."""
    if policy == "static":
        return static_from(trace.demand_per_minute, model)
    if policy == "oracle":
        return oracle
    start_instances = model.needed(float(demand[0]))
    if policy == "hpa":
        return HpaPolicy(model, start_instances)
    weddings = replay_weddings(calendar.starts, calendar.guests) if calendar else ()
    peaks = tuple(calendar.peaks_rps) if calendar else ()
    return WedscalePolicy(trace.start, model, start_instances, weddings, peaks)


def _oracle_instance_hours(plan: np.ndarray, first_scored: int, model: ClusterModel) -> float:
    """Return the oracle's scored instance-hours (it keeps its step-0 plan until step 3)."""
    ordered = plan.copy()
    ordered[: model.lag_steps] = plan[0]
    return float(ordered[first_scored:].sum() * model.step_s / 3600.0)


def read_trace(path: Path) -> Trace:
    """Return the trace in ``path``; raise ValueError when it is not a gap-free minute series."""
    rows = _read_rows(path, ("timestamp", "demand_rps"))
    if len(rows) < MIN_MINUTES:
        raise ValueError(f"{path.name}: {len(rows)} rows; a trace needs at least {MIN_MINUTES} minutes")
    times, values = [], []
    for n, row in enumerate(rows, start=2):
        times.append(_parse_time(row["timestamp"], path, n))
        values.append(_parse_number(row["demand_rps"], path, n, "demand_rps"))
    for n in range(1, len(times)):
        if times[n] - times[n - 1] != timedelta(minutes=1):
            raise ValueError(f"{path.name}: line {n + 2}: rows must be 1 minute apart without gaps")
    return Trace(path.name, times[0], np.asarray(values, dtype=float))


def read_calendar(path: Path) -> Calendar:
    """Return the ceremonies in ``path``, sorted by start; raise ValueError on a bad row."""
    rows = _read_rows(path, ("date", "start_time", "guest_count", "expected_peak_rps"))
    entries = []
    for n, row in enumerate(rows, start=2):
        start = _parse_time(f"{row['date'].strip()} {row['start_time'].strip()}", path, n)
        guests = _parse_number(row["guest_count"], path, n, "guest_count")
        peak = _parse_number(row["expected_peak_rps"], path, n, "expected_peak_rps")
        entries.append((start, int(guests), peak))
    entries.sort()
    return Calendar([e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries])


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[dict]:
    """Return the CSV rows of ``path`` after checking its header has ``columns``."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = [c.strip() for c in (reader.fieldnames or [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}; "
                                 f"expected {','.join(columns)}")
            reader.fieldnames = header
            return list(reader)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name}: not a UTF-8 CSV file") from exc
    except csv.Error as exc:
        raise ValueError(f"{path.name}: malformed CSV: {exc}") from exc


def _parse_time(text: str | None, path: Path, line: int) -> datetime:
    """Return the naive datetime of ``text`` (ISO 8601, no zone); ValueError names the line."""
    try:
        when = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise ValueError(f"{path.name}: line {line}: bad time {text!r}") from None
    if when.tzinfo is not None:
        raise ValueError(f"{path.name}: line {line}: times carry no zone (trace clock)")
    return when


def _parse_number(text: str | None, path: Path, line: int, column: str) -> float:
    """Return the finite, non-negative number in ``text``; ValueError names line and column."""
    try:
        value = float((text or "").strip())
    except ValueError:
        raise ValueError(f"{path.name}: line {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{path.name}: line {line}: {column} must be finite and >= 0")
    return value


def write_timeline(path: Path, start: datetime, demand: np.ndarray, result: SimulationResult,
                   model: ClusterModel) -> None:
    """Write ``timestamp,demand_rps,ready,ordered``, one row per step, to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    step = timedelta(seconds=model.step_s)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["timestamp", "demand_rps", "ready", "ordered"])
        for k in range(len(demand)):
            out.writerow([(start + k * step).strftime(TIME_FORMAT), f"{demand[k]:.3f}",
                          int(result.ready[k]), int(result.ordered[k])])
