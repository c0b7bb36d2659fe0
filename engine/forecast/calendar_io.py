"""Wedding calendars and time stamps in the shape the forecaster reads.

The forecaster works on naive UTC hours. A calendar is a DataFrame with one row per wedding:

- ``start``: ceremony start (naive UTC ``Timestamp``);
- ``guest_count``: guests (float);
- ``expected_peak_rps``: the booked peak demand in requests/s, NaN when unknown;
- ``reception_start``, ``reception_end``: phase boundaries. The evaluation calendars carry no
  reception times; we then take the reception to start 1 h after the ceremony and to end 5 h
  after it, so the wedding window is ``[start - 2 h, start + 6 h]`` as in the replay protocol.

Sources: the evaluation CSV ``date,start_time,guest_count,expected_peak_rps`` (same clock as
the series, used as given) and the product's ``Wedding`` values (aware UTC datetimes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

DEFAULT_CEREMONY = pd.Timedelta(hours=1)
DEFAULT_RECEPTION = pd.Timedelta(hours=4)
CALENDAR_COLUMNS = ("start", "guest_count", "expected_peak_rps", "reception_start", "reception_end")
_CSV_COLUMNS = ("date", "start_time", "guest_count")
_NORMALIZED = "wedscale_normalized_calendar"
_DTYPES = {"start": "datetime64[ns]", "guest_count": "float64", "expected_peak_rps": "float64",
           "reception_start": "datetime64[ns]", "reception_end": "datetime64[ns]"}


def to_naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return ``index`` as naive UTC (aware stamps are converted, naive ones kept as given)."""
    index = pd.DatetimeIndex(index)
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _naive(values) -> pd.Series:
    stamps = pd.to_datetime(pd.Series(values), utc=False)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.reset_index(drop=True)


def normalize_calendar(calendar: pd.DataFrame | None) -> pd.DataFrame:
    """Return ``calendar`` with exactly :data:`CALENDAR_COLUMNS`, sorted by start.

    Accepts frames with ``start`` or with ``date`` and ``start_time``; missing optional
    columns are filled (see the module docstring). Raises ValueError on a malformed frame.
    A frame this function returned (or a row selection of it) is returned as is: forecasts
    on a stored calendar pay for its checks once, not on every prediction.
    """
    if isinstance(calendar, pd.DataFrame) and calendar.attrs.get(_NORMALIZED) and \
            tuple(calendar.columns) == CALENDAR_COLUMNS:
        return calendar
    if calendar is None or len(calendar) == 0:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in CALENDAR_COLUMNS})
    if not isinstance(calendar, pd.DataFrame):
        raise ValueError("calendar must be a pandas DataFrame")
    frame = calendar.reset_index(drop=True)
    if "start" in frame:
        start = _naive(frame["start"])
    elif {"date", "start_time"} <= set(frame.columns):
        start = _naive(frame["date"].astype(str) + " " + frame["start_time"].astype(str))
    else:
        raise ValueError("calendar needs a 'start' column or 'date' and 'start_time' columns")
    if "guest_count" not in frame:
        raise ValueError("calendar needs a 'guest_count' column")
    guests = pd.to_numeric(frame["guest_count"], errors="coerce").astype(float)
    if guests.isna().any() or (guests < 0).any():
        raise ValueError("calendar guest_count must be a non-negative number on every row")
    peak = (pd.to_numeric(frame["expected_peak_rps"], errors="coerce").astype(float)
            if "expected_peak_rps" in frame else pd.Series(np.nan, index=frame.index))
    if (peak < 0).any():
        raise ValueError("calendar expected_peak_rps must not be negative")
    rec_start = _naive(frame["reception_start"]) if "reception_start" in frame else start + DEFAULT_CEREMONY
    rec_end = (_naive(frame["reception_end"]) if "reception_end" in frame
               else rec_start + DEFAULT_RECEPTION)
    out = pd.DataFrame({"start": start, "guest_count": guests.to_numpy(),
                        "expected_peak_rps": peak.to_numpy(), "reception_start": rec_start,
                        "reception_end": rec_end})
    if out[["start", "reception_start", "reception_end"]].isna().any().any():
        raise ValueError("calendar has a wedding without a valid start time")
    out = out.sort_values("start", kind="stable").reset_index(drop=True)
    out.attrs[_NORMALIZED] = True
    return out


def read_calendar_csv(path: Path) -> pd.DataFrame:
    """Read an evaluation calendar CSV (``date,start_time,guest_count[,expected_peak_rps]``).

    Returns the normalised calendar (see :func:`normalize_calendar`). Raises ValueError with a
    one-line reason when the file is not such a CSV.
    """
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"calendar {path}: not a readable CSV ({exc.__class__.__name__})") from None
    missing = [c for c in _CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"calendar {path}: missing column(s) {', '.join(missing)}")
    try:
        return normalize_calendar(frame)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"calendar {path}: {exc}") from None


def calendar_from_weddings(weddings: Iterable) -> pd.DataFrame:
    """Return the calendar frame of the product's ``Wedding`` values (cancelled ones skipped).

    The product stores no expected peak; the forecaster then scales each wedding by its guest
    count and learns the load per guest from past weddings.
    """
    rows = [{"start": w.ceremony_start, "guest_count": float(w.guest_count),
             "reception_start": w.reception_start, "reception_end": w.reception_end}
            for w in weddings if not getattr(w, "cancelled", False)]
    return normalize_calendar(pd.DataFrame(rows) if rows else None)
