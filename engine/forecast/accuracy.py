"""Accuracy of stored forecasts against what happened: MAPE and p10–p90 coverage per service.

Pure functions; :class:`~engine.forecast.service.ForecastService` fetches the actuals and
stores the results.

A forecast is *reliable* for a service unless its recent record is poor: over the forecasts
evaluated in the last ``RECENT_DAYS`` days, with at least ``MIN_POINTS`` hours compared, a MAPE
above ``MAX_MAPE`` or a coverage below ``MIN_COVERAGE`` (the intervals aim at 80 %) means the
scaling policy should not act on the forecast and fall back to reactive scaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

RECENT_DAYS = 7
MIN_POINTS = 24
MAX_MAPE = 0.30
MIN_COVERAGE = 0.60


@dataclass(frozen=True)
class Accuracy:
    """How one forecast (or a pool of them) did for one service.

    ``mape`` is the mean absolute percentage error of p50 over hours with a positive actual
    (a fraction, 0.1 = 10 %); ``coverage`` the share of hours whose actual fell in
    ``[p10, p90]``; ``n_points`` the number of hours compared.
    """

    mape: float
    coverage: float
    n_points: int

    def as_dict(self) -> dict:
        """Return the JSON shape."""
        return {"mape": round(self.mape, 4), "coverage": round(self.coverage, 4), "n": self.n_points}


def score_forecast(actual: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> Accuracy | None:
    """Return the accuracy over the hours with an actual, or None when there is none.

    NaN actuals (hours without data) are left out.
    """
    actual, p10, p50, p90 = (np.asarray(a, float) for a in (actual, p10, p50, p90))
    seen = np.isfinite(actual)
    if not seen.any():
        return None
    positive = seen & (actual > 0)
    mape = float(np.mean(np.abs(p50[positive] - actual[positive]) / actual[positive])) if positive.any() else 0.0
    covered = (actual[seen] >= p10[seen]) & (actual[seen] <= p90[seen])
    return Accuracy(mape, float(np.mean(covered)), int(seen.sum()))


def pool(results: Iterable[Accuracy]) -> Accuracy | None:
    """Return the point-weighted accuracy of several forecasts, or None when there are none."""
    results = [r for r in results if r.n_points > 0]
    n = sum(r.n_points for r in results)
    if n == 0:
        return None
    return Accuracy(sum(r.mape * r.n_points for r in results) / n,
                    sum(r.coverage * r.n_points for r in results) / n, n)


def is_reliable(recent: Accuracy | None, *, max_mape: float = MAX_MAPE,
                min_coverage: float = MIN_COVERAGE, min_points: int = MIN_POINTS) -> bool:
    """Return False only when enough recent hours show a poor forecast.

    Without a record yet (a fresh model) the forecast is trusted: its intervals were
    calibrated on rolling one-day-ahead refits when it was fitted.
    """
    if recent is None or recent.n_points < min_points:
        return True
    return recent.mape <= max_mape and recent.coverage >= min_coverage


def accuracy_of(payload: Mapping, actuals: Mapping[str, np.ndarray]) -> dict[str, Accuracy]:
    """Return per service the accuracy of a stored forecast ``payload`` against ``actuals``.

    ``actuals`` maps service → actual request rate per forecast hour (NaN where missing).
    """
    out = {}
    for service, bands in payload.get("services", {}).items():
        if service not in actuals:
            continue
        result = score_forecast(actuals[service], bands["p10"], bands["p50"], bands["p90"])
        if result is not None:
            out[service] = result
    return out
