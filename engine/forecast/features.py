"""Calendar features of hourly timestamps: seasonal cells, wedding exposure, phases and lags.

Pure functions of timestamps (and of the wedding calendar, which is booked months ahead and
may therefore be used for any hour, past or future). Timestamps are naive UTC (see
:func:`engine.forecast.calendar_io.to_naive_utc`).

Calendar frames follow :mod:`engine.forecast.calendar_io`: one row per wedding with
``start`` (ceremony start), ``guest_count``, ``expected_peak_rps`` (may be NaN),
``reception_start`` and ``reception_end``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.forecast.shrinkage import PenaltyGroup, cyclic_second_difference

HOURS_PER_WEEK = 168
PREPARATION = pd.Timedelta(hours=2)
WIND_DOWN = pd.Timedelta(hours=1)
SEASONS = ("winter", "spring", "summer", "autumn")  # meteorological, northern hemisphere


def hour_of_week(index: pd.DatetimeIndex) -> np.ndarray:
    """Return the hour of the week, 0 (Monday 00:00) .. 167 (Sunday 23:00), as int array."""
    return (index.day_of_week.to_numpy() * 24 + index.hour.to_numpy()).astype(int)


def profile_design(weekly: bool) -> tuple[np.ndarray, list[PenaltyGroup]]:
    """Return the design of the seasonal profile over the 168 hour-of-week cells, and its priors.

    Columns: intercept; hour of day (a smooth-across-hours copy and an adaptive copy whose
    prior on hour-to-hour steps is reweighted from the data, see
    :func:`engine.forecast.profile.fit_profile`: flat stretches pool their hours, sharp edges
    stay sharp); weekday; weekend x hour of day (smooth across hours: with one or two
    weekends of history an independent copy mostly fits noise); and, when ``weekly`` is true,
    a free effect per hour of the week. Each block but the intercept is one empirical-Bayes
    penalty group, so the data decide how much of each the series has. The adaptive group
    starts with an identity structure and ``adaptive=True``.

    Returns
    -------
    design : ndarray of shape (168, p)
        Row ``c`` is the design row of every hour with ``hour_of_week == c``.
    groups : list of PenaltyGroup
    """
    cells = np.arange(HOURS_PER_WEEK)
    hour, day = cells % 24, cells // 24
    onehot_hour = np.eye(24)[hour]
    weekend = (day >= 5).astype(float)[:, None]
    smooth = cyclic_second_difference(24)
    blocks = [
        (np.ones((HOURS_PER_WEEK, 1)), None),
        (onehot_hour, smooth),
        (onehot_hour, "adaptive"),
        (np.eye(7)[day], np.eye(7)),
        (onehot_hour * weekend, smooth),
    ]
    if weekly:
        blocks.append((np.eye(HOURS_PER_WEEK), np.eye(HOURS_PER_WEEK)))
    groups, start = [], 0
    for block, structure in blocks:
        width = block.shape[1]
        if isinstance(structure, str):
            groups.append(PenaltyGroup(slice(start, start + width), np.eye(width), adaptive=True))
        elif structure is not None:
            groups.append(PenaltyGroup(slice(start, start + width), structure))
        start += width
    return np.hstack([b for b, _ in blocks]), groups


def kernel_bin_centres(lead_min: int, tail_min: int, bin_min: int) -> np.ndarray:
    """Return the centres, in minutes from ceremony start, of the wedding-kernel bins."""
    return np.arange(-lead_min, tail_min, bin_min) + bin_min / 2.0


def wedding_exposure(index: pd.DatetimeIndex, calendar: pd.DataFrame | None, amplitude: str, *,
                     lead_min: int, tail_min: int, bin_min: int) -> np.ndarray:
    """Return, per hour and kernel bin, how much wedding activity the hour is exposed to.

    The excess load of one wedding at minute ``m`` after its ceremony start is modelled as
    ``amplitude * k(m)`` with ``k`` piecewise constant on bins of ``bin_min`` minutes from
    ``-lead_min`` to ``tail_min``. An hourly value sums its minutes, so the excess of hour
    ``t`` is ``sum_b X[t, b] * k_b`` with ``X[t, b]`` = sum over weddings of ``amplitude`` times
    the fraction of the hour covered by bin ``b`` of that wedding. Overlapping weddings add.

    Parameters
    ----------
    index : DatetimeIndex
        Hourly, equally spaced, naive UTC.
    calendar : DataFrame or None
        Wedding calendar; None or empty gives zeros.
    amplitude : str
        Calendar column scaling each wedding (``expected_peak_rps`` or ``guest_count``).

    Returns
    -------
    ndarray of shape (len(index), n_bins)
    """
    n_bins = (lead_min + tail_min) // bin_min
    n = len(index)
    out = np.zeros((n + 1, n_bins))
    if calendar is None or len(calendar) == 0 or n == 0:
        return out[:n]
    start_min = ((calendar["start"] - index[0]) / pd.Timedelta(minutes=1)).to_numpy(float)
    amp = calendar[amplitude].to_numpy(float)
    lo = start_min[:, None] - lead_min + np.arange(n_bins)[None, :] * bin_min
    first_hour = np.floor(lo / 60.0).astype(int)
    in_first = np.minimum(lo + bin_min, (first_hour + 1) * 60.0) - lo
    bins = np.broadcast_to(np.arange(n_bins), lo.shape)
    # a bin is at most an hour long, so it touches at most two hourly rows
    for hour, minutes in ((first_hour, in_first), (first_hour + 1, bin_min - in_first)):
        ok = (hour >= 0) & (hour < n) & (minutes > 0)
        np.add.at(out, (hour[ok], bins[ok]), (amp[:, None] * minutes / 60.0)[ok])
    return out[:n]


def _phase_masks(times: np.ndarray, row: pd.Series) -> list[tuple[str, np.ndarray]]:
    start = row["start"]
    return [
        ("preparation", (times >= start - PREPARATION) & (times < start)),
        ("ceremony", (times >= start) & (times < row["reception_start"])),
        ("reception", (times >= row["reception_start"]) & (times < row["reception_end"])),
        ("wind-down", (times >= row["reception_end"]) & (times < row["reception_end"] + WIND_DOWN)),
    ]


def calendar_features(index: pd.DatetimeIndex, calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return readable per-hour calendar features (for display, explanations and models).

    Columns: ``hour``, ``weekday`` (0 = Monday), ``is_weekend``, ``season``, ``wedding_phase``
    (phase of the wedding in the most advanced phase this hour, "" when none;
    a wedding window runs from 2 h before the ceremony to 1 h after the reception, as in
    DESIGN.md), ``weddings_in_progress``, ``guest_count`` and ``expected_peak_rps`` (sums over
    the weddings in progress), ``hours_to_ceremony`` (to the next ceremony start at or after the
    hour; NaN when none is on the calendar).
    """
    times = index.to_numpy()
    month = index.month.to_numpy()
    out = pd.DataFrame({
        "hour": index.hour.to_numpy(),
        "weekday": index.day_of_week.to_numpy(),
        "is_weekend": (index.day_of_week.to_numpy() >= 5).astype(int),
        "season": [SEASONS[(m % 12) // 3] for m in month],
        "wedding_phase": "",
        "weddings_in_progress": 0,
        "guest_count": 0.0,
        "expected_peak_rps": 0.0,
        "hours_to_ceremony": np.nan,
    }, index=index)
    if calendar is None or len(calendar) == 0:
        return out
    phase_rank = np.zeros(len(index), dtype=int)
    names = np.array([""] * len(index), dtype=object)
    for _, row in calendar.iterrows():
        in_window = np.zeros(len(index), dtype=bool)
        for rank, (phase, mask) in enumerate(_phase_masks(times, row), start=1):
            in_window |= mask
            better = mask & (rank > phase_rank)
            names[better], phase_rank[better] = phase, rank
        out.loc[in_window, "weddings_in_progress"] += 1
        out.loc[in_window, "guest_count"] += float(row["guest_count"])
        peak = row.get("expected_peak_rps", np.nan)
        out.loc[in_window, "expected_peak_rps"] += 0.0 if pd.isna(peak) else float(peak)
    out["wedding_phase"] = names
    starts = np.sort(calendar["start"].to_numpy())
    nxt = np.searchsorted(starts, times, side="left")
    has = nxt < len(starts)
    hours = np.full(len(index), np.nan)
    hours[has] = (starts[nxt[has]] - times[has]) / np.timedelta64(1, "h")
    out["hours_to_ceremony"] = hours
    return out


def lag_features(series: pd.Series, lags: tuple[int, ...] = (24, 168)) -> pd.DataFrame:
    """Return ``lag_<k>`` columns: the value ``k`` hours earlier (NaN where not observed).

    ``series`` must be hourly with a regular index; only past values are used, so row ``t``
    of the result depends on rows before ``t`` only.
    """
    return pd.DataFrame({f"lag_{k}": series.shift(k) for k in lags}, index=series.index)
