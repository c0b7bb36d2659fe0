"""Smooth second opinion on the base load: daily and weekly harmonics plus a linear trend.

``z_t = a + b t + sum_k daily Fourier terms (order 4) + sum_k weekly Fourier terms (order 3)``,
fitted to the log values by weighted least squares over the last ``HARMONIC_WINDOW_DAYS``.
Few parameters (16), so on short, noisy histories it is steadier than the hour-of-week
profile, and its trend follows a level that slides over days, which the profile's day
levels only do from three weeks of history on. Its weak spots (sharp daily edges, weekly
shapes that are not smooth) are the profile's strengths: :mod:`engine.forecast.model` blends
the two, on histories under three weeks, with a weight chosen on rolling out-of-sample days
before the origin, never fixed per series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAILY_ORDER = 4
WEEKLY_ORDER = 3
HARMONIC_WINDOW_DAYS = 28   # the trend is local: a straight line over months would not be
# the weekly terms and the trend extrapolate wildly from under one week of data
HARMONIC_MIN_DAYS = 7
_RIDGE = 1e-6


def harmonic_design(hour_index: np.ndarray, day_of_week: np.ndarray, hour_of_day: np.ndarray) -> np.ndarray:
    """Return the design rows: intercept, trend (days), daily and weekly Fourier terms.

    ``hour_index`` counts hours on one clock for history and forecast alike (so the trend
    continues), ``day_of_week`` is 0 (Monday) .. 6 and ``hour_of_day`` 0 .. 23.
    """
    days = np.asarray(hour_index, float) / 24.0
    phase_day = np.asarray(hour_of_day, float) / 24.0
    phase_week = (np.asarray(day_of_week, float) + phase_day) / 7.0
    cols = [np.ones_like(days), days]
    for order, phase in ((DAILY_ORDER, phase_day), (WEEKLY_ORDER, phase_week)):
        for k in range(1, order + 1):
            cols += [np.sin(2 * np.pi * k * phase), np.cos(2 * np.pi * k * phase)]
    return np.column_stack(cols)


@dataclass(frozen=True)
class HarmonicFit:
    """Coefficients of :func:`harmonic_design`, in log space."""

    coef: np.ndarray | None     # None: too little history for an opinion

    def forecast(self, design_rows: np.ndarray) -> np.ndarray:
        """Return the log-space forecast of the given design rows (NaN without an opinion)."""
        if self.coef is None:
            return np.full(len(design_rows), np.nan)
        return design_rows @ self.coef


def fit_harmonic(z: np.ndarray, weights: np.ndarray, design: np.ndarray, *,
                 robust_k: float | None) -> HarmonicFit:
    """Fit the harmonic model to log values ``z`` with row weights; return its coefficients.

    Only the last ``HARMONIC_WINDOW_DAYS`` of rows are used; with under
    ``HARMONIC_MIN_DAYS`` of observed hours the fit has no opinion (``coef`` None). As in
    the profile, residuals beyond ``robust_k`` robust standard deviations are clipped and the
    fit repeated once.
    """
    keep = slice(max(0, len(z) - HARMONIC_WINDOW_DAYS * 24), len(z))
    z, w, x = z[keep], weights[keep], design[keep]
    if np.count_nonzero(w > 0) < HARMONIC_MIN_DAYS * 24:
        return HarmonicFit(None)
    coef = _weighted_lstsq(x, z, w)
    used = w > 0
    if robust_k is not None and used.any():
        resid = z - x @ coef
        sigma = 1.4826 * float(np.median(np.abs(resid[used] - np.median(resid[used]))))
        if sigma > 0:
            coef = _weighted_lstsq(x, x @ coef + np.clip(resid, -robust_k * sigma, robust_k * sigma), w)
    return HarmonicFit(coef)


def _weighted_lstsq(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    gram = x.T @ (x * w[:, None]) + _RIDGE * np.eye(x.shape[1])
    return np.linalg.solve(gram, x.T @ (w * np.where(w > 0, z, 0.0)))
