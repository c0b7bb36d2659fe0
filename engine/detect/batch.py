"""Batch runner behind ``wedscale detect``: the live streaming detector over CSV files.

Each file is a ``timestamp,value`` series (extra columns are ignored). Every file gets its
own :class:`~engine.detect.anomaly.StreamingAnomalyDetector`, fed row by row in file
order, exactly as a live metric would be, so a row's output depends only on the rows
before it and itself. All inputs are read and validated before anything is written, so
a bad file fails the run without leaving half of the outputs behind.
"""

from __future__ import annotations

import csv
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine.detect.anomaly import StreamingAnomalyDetector
from engine.detect.timestamps import to_epoch_seconds

OUTPUT_COLUMNS = ("timestamp", "value", "anomaly_score", "is_anomaly")
REQUIRED_COLUMNS = ("timestamp", "value")


@dataclass(frozen=True)
class Series:
    """One validated input file: the raw text of each row and its parsed numbers."""

    source: Path
    timestamps: tuple[str, ...]   # as written in the file (echoed to the output)
    values: tuple[str, ...]       # as written in the file (echoed to the output)
    times_s: tuple[float, ...]    # Unix seconds
    numbers: tuple[float, ...]


def detect_path(input_path: Path, output_dir: Path, *, workers: int | None = None) -> list[Path]:
    """Run the streaming detector over a CSV file or a folder of them.

    Parameters
    ----------
    input_path : Path
        A ``timestamp,value`` CSV file, or a folder searched at any depth for ``*.csv``.
    output_dir : Path
        Created if missing. A file input is written to ``output_dir/<file name>``; a
        folder input to ``output_dir/<path relative to the folder>``.
    workers : int or None, default None
        Processes scoring files in parallel; None means one per CPU. Each file is still
        scored by one detector in row order, so the output does not depend on it.

    Returns
    -------
    list of Path
        The files written, in input order (sorted paths for a folder).

    Raises
    ------
    ValueError
        If the input is missing, holds no CSV file, or a file is not a valid series
        (the message names the file and the row).
    """
    input_path, output_dir = Path(input_path), Path(output_dir)
    jobs = [(path, output_dir / relative) for path, relative in _list_inputs(input_path)]
    series = [read_series(path) for path, _ in jobs]
    workers = min(len(series), workers or os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(score_series, series))
    else:
        results = [score_series(data) for data in series]
    for data, (scores, alerts), (_, target) in zip(series, results, jobs):
        write_scores(target, data, scores, alerts)
    return [target for _, target in jobs]


def score_series(data: Series) -> tuple[list[float], list[bool]]:
    """Run a fresh streaming detector over one series; return scores and alert decisions."""
    return StreamingAnomalyDetector().fit().score_stream(data.times_s, data.numbers)


def _list_inputs(input_path: Path) -> list[tuple[Path, Path]]:
    """Return ``(input file, output path relative to the output folder)`` pairs."""
    if input_path.is_file():
        return [(input_path, Path(input_path.name))]
    if not input_path.is_dir():
        raise ValueError(f"{input_path}: no such file or folder")
    files = sorted(p for p in input_path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise ValueError(f"{input_path}: no .csv files found (searched at any depth)")
    return [(path, path.relative_to(input_path)) for path in files]


def read_series(path: Path) -> Series:
    """Read and validate one ``timestamp,value`` CSV file.

    Raises
    ------
    ValueError
        One line naming the file and the 1-based line number: empty file, missing
        column, short row, unreadable timestamp, or a value that is not a finite number.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ValueError(f"{path}: empty file (expected a header with timestamp,value)")
        names = [cell.strip().lower() for cell in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)} "
                             f"(header is {','.join(header)!r})")
        t_col, v_col = names.index("timestamp"), names.index("value")
        stamps, values, times_s, numbers = [], [], [], []
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) <= max(t_col, v_col):
                raise ValueError(f"{path}: line {line}: expected {len(header)} columns, got {len(row)}")
            stamp, text = row[t_col].strip(), row[v_col].strip()
            times_s.append(_parse_time(path, line, stamp))
            numbers.append(_parse_value(path, line, text))
            stamps.append(stamp)
            values.append(text)
    if not numbers:
        raise ValueError(f"{path}: no data rows after the header")
    return Series(path, tuple(stamps), tuple(values), tuple(times_s), tuple(numbers))


def _parse_time(path: Path, line: int, text: str) -> float:
    try:
        return to_epoch_seconds(text)
    except ValueError:
        raise ValueError(f"{path}: line {line}: timestamp {text!r} is not ISO 8601 "
                         "(e.g. 2014-04-01 00:05:00)") from None


def _parse_value(path: Path, line: int, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{path}: line {line}: value {text!r} is not a finite number")
    return number


def write_scores(target: Path, data: Series, scores: list[float], alerts: list[bool]) -> None:
    """Write ``timestamp,value,anomaly_score,is_anomaly`` rows next to the input rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(OUTPUT_COLUMNS)
        for stamp, text, score, alert in zip(data.timestamps, data.values, scores, alerts):
            # round down, so a printed score never crosses the 0.5 alert line by rounding
            out.writerow((stamp, text, f"{math.floor(score * 1e6) / 1e6:.6f}", int(alert)))
