"""Calibrated forecast intervals from rolling one-day-ahead refits (split conformal).

The forecaster refits itself on the history cut at each of the last ``days`` day boundaries,
forecasts the following day, and keeps the errors ``log(y + c) - log(yhat + c)``. Their
empirical quantiles become the interval around any later forecast, so the band reflects the
errors the model actually makes out of sample, not its in-sample fit. Hours whose forecast is
dominated by the wedding calendar (its excess is at least ``WEDDING_SHARE`` of the forecast)
have their own quantiles: timing and size of a wedding peak are much less certain than the
daily cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

WEDDING_SHARE = 0.1
MIN_CALIBRATION_HOURS = 72     # a refit needs at least three days of history
MIN_WEDDING_ERRORS = 12
# The future drifts further from the fit than the calibration days did from theirs, and the
# errors of one day are correlated (few independent samples): on the dev series the band
# aimed at exactly `coverage` covered 2-4 points less. Aim that much wider.
DRIFT_MARGIN = 0.02
# Without any out-of-sample error (under four days of history) the band is this wide in log
# space (x0.6 .. x1.65); with too few wedding-hour errors, wedding hours get the ordinary
# band around their base load plus +-WEDDING_EXCESS_SPREAD of their wedding excess. Both are
# deliberate guesses for data-poor starts (the first weddings of a season).
FALLBACK_LOG_BAND = (-0.5, 0.5)
WEDDING_EXCESS_SPREAD = 0.5


@dataclass(frozen=True)
class IntervalCalibration:
    """Log-space error quantiles ``(low, high)`` for ordinary and wedding-dominated hours."""

    base: tuple[float, float]
    wedding: tuple[float, float] | None   # None: too few wedding-hour errors yet
    n_base: int
    n_wedding: int

    def bounds(self, yhat: np.ndarray, excess: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(low, high)`` bounds around ``yhat`` (same units), elementwise."""
        wedding = excess >= WEDDING_SHARE * (yhat + offset)
        if self.wedding is not None:
            low = np.where(wedding, self.wedding[0], self.base[0])
            high = np.where(wedding, self.wedding[1], self.base[1])
            log_hat = np.log(np.maximum(yhat + offset, 1e-12))
            return np.exp(log_hat + low) - offset, np.exp(log_hat + high) - offset
        spread = np.where(wedding, WEDDING_EXCESS_SPREAD * excess, 0.0)
        log_base = np.log(np.maximum(yhat - excess + offset, 1e-12))
        return (np.exp(log_base + self.base[0]) - offset + excess - spread,
                np.exp(log_base + self.base[1]) - offset + excess + spread)


Backcast = Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def rolling_cuts(n_obs: int, days: int) -> list[int]:
    """Return the history lengths of the rolling refits: ``n_obs - 24 k``, ``k = 1 .. days``.

    Cuts that would leave under ``MIN_CALIBRATION_HOURS`` of history are left out.
    """
    return [n_obs - 24 * k for k in range(1, days + 1) if n_obs - 24 * k >= MIN_CALIBRATION_HOURS]


def calibrate_intervals(backcast: Backcast, *, cuts: list[int], coverage: float,
                        offset: float) -> IntervalCalibration:
    """Collect rolling out-of-sample errors and return their quantiles.

    Parameters
    ----------
    backcast : callable
        ``backcast(cut)`` refits on the first ``cut`` hours and returns ``(actual, yhat,
        excess)`` for the hours from ``cut`` (up to 24).
    cuts : list of int
        History lengths of the refits (see :func:`rolling_cuts`); none gives the fallback band.
    coverage : float
        Central coverage of the band, in (0, 1).
    offset : float
        The forecaster's log offset ``c``.
    """
    target = min(coverage + DRIFT_MARGIN, 0.99)
    low_q, high_q = (1.0 - target) / 2.0, (1.0 + target) / 2.0
    base, wedding = [], []
    for cut in cuts:
        actual, yhat, excess = backcast(cut)
        ok = np.isfinite(actual)
        err = np.log(np.maximum(actual[ok] + offset, 1e-12)) - np.log(np.maximum(yhat[ok] + offset, 1e-12))
        is_wedding = excess[ok] >= WEDDING_SHARE * (yhat[ok] + offset)
        base.append(err[~is_wedding])
        wedding.append(err[is_wedding])
    base_err = np.concatenate(base) if base else np.empty(0)
    wedding_err = np.concatenate(wedding) if wedding else np.empty(0)
    if len(base_err):
        base_band = (float(np.quantile(base_err, low_q)), float(np.quantile(base_err, high_q)))
    else:
        base_band = FALLBACK_LOG_BAND
    if len(wedding_err) >= MIN_WEDDING_ERRORS:
        wedding_band = (float(np.quantile(wedding_err, low_q)), float(np.quantile(wedding_err, high_q)))
    else:
        wedding_band = None
    return IntervalCalibration(base_band, wedding_band, len(base_err), len(wedding_err))
