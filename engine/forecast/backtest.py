"""Rolling-origin backtest of the load forecaster (``wedscale backtest``).

For each of the last ``n_origins`` daily origins ``o`` (midnights whose whole horizon is in
the input), a fresh :class:`~engine.forecast.model.LoadForecaster` is fitted on the rows with
``timestamp < o`` only and forecasts ``o .. o + horizon - 1 h``. The wedding calendar, booked
ahead, may be used whole at every origin. Output: ``origin,timestamp,actual,yhat,p10,p90``
(``../shared/benchmarks/FORECAST_PROTOCOL.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.forecast.calendar_io import read_calendar_csv
from engine.forecast.model import MIN_HISTORY_HOURS, LoadForecaster

OUTPUT_COLUMNS = ("origin", "timestamp", "actual", "yhat", "p10", "p90")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def read_hourly_series(path: Path) -> pd.Series:
    """Read a ``timestamp,value`` CSV of hourly values, or raise ValueError with one line.

    The timestamps are used as given (naive, no zone conversion) and must be strictly
    increasing, on the hour, without gaps; values must be finite numbers.
    """
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc.__class__.__name__})") from None
    if list(frame.columns[:2]) != ["timestamp", "value"]:
        raise ValueError(f"{path}: expected header 'timestamp,value', got {','.join(map(str, frame.columns))}")
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], format="mixed"))
    except (ValueError, TypeError):
        raise ValueError(f"{path}: unparseable timestamp") from None
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(float)
    if not np.isfinite(values).all():
        bad = int(np.argmin(np.isfinite(values)))
        raise ValueError(f"{path}: non-numeric or non-finite value on data row {bad + 1}")
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    steps = np.diff(stamps.to_numpy()) / np.timedelta64(1, "h")
    if len(steps) and (steps <= 0).any():
        raise ValueError(f"{path}: timestamps must be strictly increasing")
    if len(steps) and (steps != 1).any():
        bad = int(np.argmax(steps != 1))
        raise ValueError(f"{path}: not hourly without gaps (after {stamps[bad]:{_TIME_FORMAT}})")
    if len(stamps) and (stamps != stamps.floor("h")).any():
        raise ValueError(f"{path}: timestamps must be on the hour")
    return pd.Series(values, index=stamps, name="value")


def backtest_origins(index: pd.DatetimeIndex, n_origins: int, horizon_hours: int) -> list[pd.Timestamp]:
    """Return the last ``n_origins`` midnights whose whole horizon is in ``index``, oldest first.

    Raises ValueError when the series cannot give that many origins with at least
    ``MIN_HISTORY_HOURS`` of history before each.
    """
    if n_origins < 1 or horizon_hours < 1:
        raise ValueError("origins and horizon-hours must be at least 1")
    if len(index) == 0:
        raise ValueError("the series is empty")
    origin = (index[-1] - pd.Timedelta(hours=horizon_hours - 1)).floor("D")
    origins = [origin - pd.Timedelta(days=k) for k in range(n_origins)]
    first = origins[-1]
    history_hours = int((first - index[0]) / pd.Timedelta(hours=1))
    if history_hours < MIN_HISTORY_HOURS:
        raise ValueError(f"series too short for {n_origins} origins: the first origin {first:{_TIME_FORMAT}} "
                         f"would have {max(history_hours, 0)} h of history, {MIN_HISTORY_HOURS} h needed")
    return sorted(origins)


def forecast_origin(series: pd.Series, origin: pd.Timestamp, horizon_hours: int,
                    calendar: pd.DataFrame | None) -> pd.DataFrame:
    """Fit on ``series[timestamp < origin]`` only and return the forecast frame of ``origin``."""
    history = series[series.index < origin]
    model = LoadForecaster().fit(history, calendar)
    return model.predict(origin, horizon_hours)


def run_backtest(input_csv: Path, output_csv: Path, *, horizon_hours: int, n_origins: int,
                 calendar_csv: Path | None = None) -> int:
    """Run the rolling-origin backtest and write its CSV; return the number of rows written.

    Parameters
    ----------
    input_csv : Path
        Hourly ``timestamp,value`` series.
    output_csv : Path
        Written with columns ``origin,timestamp,actual,yhat,p10,p90`` (parent created).
    horizon_hours : int
        Hours forecast from each origin.
    n_origins : int
        Number of daily origins, counted back from the last one with a full horizon.
    calendar_csv : Path or None
        Wedding calendar ``date,start_time,guest_count,expected_peak_rps``.

    Raises
    ------
    ValueError
        On malformed input or a series too short for the requested origins.
    """
    series = read_hourly_series(Path(input_csv))
    calendar = read_calendar_csv(Path(calendar_csv)) if calendar_csv is not None else None
    frames = []
    for origin in backtest_origins(series.index, n_origins, horizon_hours):
        forecast = forecast_origin(series, origin, horizon_hours, calendar)
        frames.append(pd.DataFrame({
            "origin": origin.strftime(_TIME_FORMAT),
            "timestamp": forecast.index.strftime(_TIME_FORMAT),
            "actual": series.reindex(forecast.index).to_numpy(),
            "yhat": forecast["yhat"].to_numpy(),
            "p10": forecast["p10"].to_numpy(),
            "p90": forecast["p90"].to_numpy(),
        }))
    out = pd.concat(frames, ignore_index=True)[list(OUTPUT_COLUMNS)]
    output_csv = Path(output_csv)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(output_csv, index=False)
    return len(out)
