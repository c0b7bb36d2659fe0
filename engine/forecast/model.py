"""Hourly load forecaster: seasonal profile x day level, plus the wedding calendar's excess.

``LoadForecaster`` is the one forecaster of the product: the backtest refits it at every
origin, and the live product fits one per service on that service's hourly history (filter
the calendar to the weddings that use the service). The model, fit on at most
``max_history_days`` of history:

- **Base load**, in log space (:mod:`engine.forecast.profile`): ``log(y + c)`` = hour-of-week
  profile + day level + daily deviation. The profile sums hour-of-day, weekday, weekend x
  hour and (from three weeks of history) free hour-of-week effects; the day level is a random
  walk and the deviation an independent daily effect. Every part is shrunk by empirical Bayes
  (:mod:`engine.forecast.shrinkage`), so how seasonal, how drifting and how noisy the series
  is, is learned from the series and not set per series. The hour-of-day shape has an
  adaptive prior on its hour-to-hour steps, so flat stretches of the day pool their hours
  while sharp edges stay sharp. Residuals beyond 2.5 robust standard deviations are clipped
  (flash spikes, outages).
- **Harmonic opinion** on short histories (under three weeks, where the profile has no day
  levels): daily and weekly Fourier terms plus a linear trend (:mod:`engine.forecast.harmonic`),
  blended with the profile in log space. The weight (0, 1/4, .., 1) is the one with the least
  absolute error on the rolling one-day-ahead refits below, so it is chosen from the history
  before the forecast origin only; from three weeks on the profile stands alone.
- **Wedding excess**, additive: each wedding on the calendar adds ``amplitude * k(minutes
  from ceremony start)`` (amplitude = ``expected_peak_rps``, or the guest count when the
  calendar has no peaks). The kernel ``k`` is learned from the past weddings in the history
  (non-negative, a smooth correction of a prior shaped like the documented phases),
  alternating with the base fit so that neither absorbs the other.
- **Intervals**: quantiles of the log-space errors of rolling one-day-ahead refits over the
  last ``calibration_days`` days (split conformal, :mod:`engine.forecast.intervals`), of the
  blended forecast, kept separately for hours dominated by weddings.

Everything is a deterministic function of the history and the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear
from threadpoolctl import threadpool_limits

from engine.forecast.calendar_io import normalize_calendar, to_naive_utc
from engine.forecast.features import (
    hour_of_week,
    kernel_bin_centres,
    profile_design,
    wedding_exposure,
)
from engine.forecast.harmonic import HarmonicFit, fit_harmonic, harmonic_design
from engine.forecast.intervals import calibrate_intervals, rolling_cuts
from engine.forecast.profile import ProfileFit, ProfilePenalty, fit_profile

MIN_HISTORY_HOURS = 48
_WEEKLY_MIN_HOURS = 21 * 24      # free hour-of-week effects need >= 3 observations per cell
ROBUST_K = 2.5
_WEDDING_WEIGHT = 0.2            # weight of wedding-exposed hours in later base refits
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)   # candidate weights of the harmonic opinion
MIN_BLEND_CALIBRATION_DAYS = 3


def prior_kernel(centres_min: np.ndarray) -> np.ndarray:
    """Return the prior wedding kernel: excess demand per unit of amplitude at each bin centre.

    Shaped like the phases of DESIGN.md with the default timings of
    :mod:`engine.forecast.calendar_io` (wedding window = start - 2 h .. start + 6 h):
    preparation ramps from 0 to 0.2 over the 2 h before the ceremony, the ceremony hour runs
    at 0.7, the reception at 0.35 until 5 h after the start, then a linear wind-down to 0 over
    the last hour. The data override it after a few weddings.
    """
    t = np.asarray(centres_min, dtype=float)
    k = np.zeros_like(t)
    prep = (t >= -120) & (t < 0)
    k[prep] = 0.2 * (t[prep] + 120) / 120
    k[(t >= 0) & (t < 60)] = 0.7
    k[(t >= 60) & (t < 300)] = 0.35
    down = (t >= 300) & (t < 360)
    k[down] = 0.35 * (360 - t[down]) / 60
    return k


@dataclass(frozen=True)
class _Components:
    """One fit of base profile (with levels) and wedding kernel on one stretch of history."""

    profile: ProfileFit
    harmonic: HarmonicFit
    kernel: np.ndarray


class LoadForecaster:
    """Hourly load forecaster with wedding-calendar effects and calibrated 80 % intervals.

    Parameters
    ----------
    half_life_days : float, default 28.0
        Age at which an hour of history weighs half as much in the seasonal profile (the
        day levels follow faster changes on their own).
    max_history_days : int, default 84
        Only the most recent days are fitted on.
    calibration_days : int, default 14
        Rolling one-day-ahead refits used to calibrate the intervals.
    coverage : float, default 0.8
        Central coverage of ``[p10, p90]``; the column names stay p10/p90.
    kernel_lead_min, kernel_tail_min, kernel_bin_min : int, default 180, 900, 30
        Span of the wedding kernel around the ceremony start and its resolution, minutes.
    kernel_smoothing, kernel_prior_weight : float, default 1.0, 0.1
        Penalties of the kernel's roughness and of its distance to :func:`prior_kernel`, in
        units of one wedding's worth of data.
    rps_to_hourly : float, default 60.0
        Hourly value of a demand of 1 req/s sustained for an hour: 60 for the evaluation
        series (hourly sums of per-minute rates), 1 for hourly mean rates. Scales the prior.

    Attributes
    ----------
    profile_, harmonic_, blend_weight_, kernel_, offset_, calibration_, calendar_, amplitude_,
    history_start_, history_end_
        Learned in :meth:`fit`; ``blend_weight_`` is the harmonic opinion's share.
    """

    def __init__(self, *, half_life_days: float = 28.0, max_history_days: int = 84,
                 calibration_days: int = 14, coverage: float = 0.8, kernel_lead_min: int = 180,
                 kernel_tail_min: int = 900, kernel_bin_min: int = 30,
                 kernel_smoothing: float = 1.0, kernel_prior_weight: float = 0.1,
                 rps_to_hourly: float = 60.0):
        self.half_life_days = half_life_days
        self.max_history_days = max_history_days
        self.calibration_days = calibration_days
        self.coverage = coverage
        self.kernel_lead_min = kernel_lead_min
        self.kernel_tail_min = kernel_tail_min
        self.kernel_bin_min = kernel_bin_min
        self.kernel_smoothing = kernel_smoothing
        self.kernel_prior_weight = kernel_prior_weight
        self.rps_to_hourly = rps_to_hourly

    # -- fit -----------------------------------------------------------------------------
    def fit(self, history: pd.Series, calendar: pd.DataFrame | None = None) -> "LoadForecaster":
        """Learn profile, level, harmonic blend, wedding kernel and intervals; return self.

        Parameters
        ----------
        history : Series
            Hourly values indexed by naive or aware (converted to UTC) timestamps; missing
            hours may be absent or NaN. At least 48 observed hours.
        calendar : DataFrame or None
            Wedding calendar (see :mod:`engine.forecast.calendar_io`), past and future.

        Raises
        ------
        ValueError
            If the history is not an hourly numeric series with enough finite values.
        """
        series = _validated_history(history)
        series = series[series.index > series.index[-1] - pd.Timedelta(days=self.max_history_days)]
        values = series.to_numpy(float)
        self.calendar_ = normalize_calendar(calendar)
        peaks, guests = self.calendar_["expected_peak_rps"], self.calendar_["guest_count"]
        both = peaks.notna() & (guests > 0)
        self.amplitude_ = "expected_peak_rps" if both.any() else "guest_count"
        # weddings booked without a peak get one from their guests, at the calendar's ratio
        self.peak_per_guest_ = float(np.median(peaks[both] / guests[both])) if both.any() else 0.0
        self.history_start_ = series.index[0]
        self.history_end_ = series.index[-1]
        self.nonnegative_ = bool(np.nanmin(values) >= 0)
        scale = float(np.nanmean(np.abs(values))) or 1.0
        # log(y + offset): the offset keeps zeros (and any negatives) finite and damps the
        # relative noise of near-empty hours; the floor bounds the log when the excess
        # removed exceeds the load
        self.floor_ = 0.05 * scale
        self.offset_ = max(0.0, -float(np.nanmin(values))) + self.floor_
        self.weekly_ = self.day_levels_ = len(values) >= _WEEKLY_MIN_HOURS
        self.design_, self.groups_ = profile_design(self.weekly_)
        how = hour_of_week(series.index)
        harmonic_rows = harmonic_design(np.arange(len(values)), how // 24, how % 24)
        exposure = self._exposure(series.index)
        with threadpool_limits(limits=1):  # small matrices: threads only contend
            comp = self._fit_components(values, how, harmonic_rows, exposure, penalty=None)
            backcasts = {cut: self._backcast(values, how, harmonic_rows, exposure, cut, comp.profile.penalty)
                         for cut in rolling_cuts(len(values), self.calibration_days)}
        self.blend_weight_ = (_choose_blend(backcasts.values(), self.offset_, self.nonnegative_)
                              if comp.harmonic.coef is not None else 0.0)
        self.calibration_ = calibrate_intervals(
            lambda cut: _blended(backcasts[cut], self.blend_weight_, self.offset_, self.nonnegative_),
            cuts=_calibration_cuts(backcasts, self.blend_weight_), coverage=self.coverage,
            offset=self.offset_)
        self.profile_, self.harmonic_, self.kernel_ = comp.profile, comp.harmonic, comp.kernel
        return self

    def _exposure(self, index: pd.DatetimeIndex, calendar: pd.DataFrame | None = None) -> np.ndarray:
        cal = self.calendar_ if calendar is None else calendar
        if self.amplitude_ == "expected_peak_rps" and cal["expected_peak_rps"].isna().any():
            cal = cal.assign(expected_peak_rps=cal["expected_peak_rps"].fillna(
                cal["guest_count"] * self.peak_per_guest_))
        return wedding_exposure(index, cal, self.amplitude_, lead_min=self.kernel_lead_min,
                                tail_min=self.kernel_tail_min, bin_min=self.kernel_bin_min)

    def _fit_components(self, values, how, harmonic_rows, exposure,
                        penalty: ProfilePenalty | None) -> _Components:
        n = len(values)
        observed = np.isfinite(values)
        age_days = (n - 1 - np.arange(n)) / 24.0
        recency = np.where(observed, 0.5 ** (age_days / self.half_life_days), 0.0)
        recency *= observed.sum() / recency.sum()
        exposed = exposure.sum(axis=1) > 0
        y = np.where(observed, values, 0.0)
        # with no past wedding to learn from, the prior kernel stands (scaled to the series)
        kernel = self._fit_kernel(exposure[:0], np.zeros(0))
        excess = np.zeros(n)
        # base first without the wedding hours, then kernel on what the base leaves, then
        # base again on the load minus the weddings (wedding hours weigh less: noisier)
        passes = 2 if (exposed & observed).any() else 1
        for step in range(passes):
            weights = recency * np.where(exposed, 0.0 if step == 0 else _WEDDING_WEIGHT, 1.0)
            z = np.log(np.maximum(y - excess + self.offset_, self.floor_))
            profile = fit_profile(z, weights, how, self.design_, self.groups_,
                                  day_levels=self.day_levels_, penalty=penalty, robust_k=ROBUST_K)
            penalty = profile.penalty
            if passes == 2:
                base = np.exp(profile.fitted) - self.offset_
                fit_rows = exposed & observed
                kernel = self._fit_kernel(exposure[fit_rows], (y - base)[fit_rows])
                excess = exposure @ kernel
        # from three weeks on, the profile's day levels follow a sliding level and its free
        # hour-of-week effects any weekly shape: the harmonic adds nothing there but the
        # noise of choosing a weight (on the 90-day wedding trace it cost ~1 % MASE)
        harmonic = (HarmonicFit(None) if self.day_levels_
                    else fit_harmonic(z, weights, harmonic_rows, robust_k=ROBUST_K))
        return _Components(profile, harmonic, kernel)

    def _fit_kernel(self, exposure: np.ndarray, excess: np.ndarray) -> np.ndarray:
        centres = kernel_bin_centres(self.kernel_lead_min, self.kernel_tail_min, self.kernel_bin_min)
        prior = (prior_kernel(centres) * self.rps_to_hourly if self.amplitude_ == "expected_peak_rps"
                 else np.zeros(len(centres)))
        if len(excess) == 0:
            return prior
        # kernel = prior + a smooth correction, penalised in units of one wedding's worth of
        # data at its typical amplitude (the correction, not the kernel, is smooth, so the
        # prior's sharp ceremony edges survive). A wedding never lowers the load: kernel >= 0
        # (a smooth fit of a sharp drop would otherwise undershoot below zero after it).
        unit = float(np.mean(np.max(exposure, axis=1) ** 2)) * (60.0 / self.kernel_bin_min)
        n_bins = len(prior)
        rough = np.diff(np.eye(n_bins), 2, axis=0) * np.sqrt(self.kernel_smoothing * unit)
        shrink = np.sqrt(self.kernel_prior_weight * unit) * np.eye(n_bins)
        a = np.vstack([exposure, rough, shrink])
        b = np.concatenate([excess - exposure @ prior, np.zeros(2 * n_bins - 2)])
        lower = -prior - 1e-12  # strictly below the upper bound even where the prior is 0
        return prior + lsq_linear(a, b, bounds=(lower, np.inf), method="bvls").x

    def _backcast(self, values, how, harmonic_rows, exposure, cut, penalty) -> "_Backcast":
        """Refit on ``values[:cut]`` with fixed shrinkage; forecast the next day (validation)."""
        comp = self._fit_components(values[:cut], how[:cut], harmonic_rows[:cut], exposure[:cut], penalty)
        rows = slice(cut, min(cut + 24, len(values)))
        n = rows.stop - rows.start
        return _Backcast(values[rows], comp.profile.forecast(self.design_[how[rows]], np.ones(n)),
                         comp.harmonic.forecast(harmonic_rows[rows]), exposure[rows] @ comp.kernel)

    # -- predict -------------------------------------------------------------------------
    def predict(self, start, horizon_hours: int, calendar: pd.DataFrame | None = None) -> pd.DataFrame:
        """Return hourly ``yhat, p10, p90`` for ``horizon_hours`` hours from ``start``.

        Parameters
        ----------
        start : timestamp-like
            First hour to forecast (naive, or aware and converted to UTC); normally the hour
            after the history.
        horizon_hours : int
            Number of hourly rows (>= 1).
        calendar : DataFrame or None
            Calendar to use instead of the one given to :meth:`fit` (e.g. newly booked
            weddings); the kernel learned in ``fit`` is applied to it.

        Returns
        -------
        DataFrame indexed by hour (naive UTC) with columns ``yhat``, ``p10``, ``p90``,
        ``p10 <= yhat <= p90``.
        """
        if not hasattr(self, "profile_"):
            raise ValueError("LoadForecaster is not fitted: call fit(history) first")
        if int(horizon_hours) < 1:
            raise ValueError("horizon_hours must be at least 1")
        first = to_naive_utc(pd.DatetimeIndex([pd.Timestamp(start)]))[0].floor("h")
        index = pd.date_range(first, periods=int(horizon_hours), freq="h")
        cal = None if calendar is None else normalize_calendar(calendar)
        exposure = self._exposure(index, cal)
        days_ahead = np.maximum(1, np.ceil((index - self.history_end_) / pd.Timedelta(hours=24)))
        how = hour_of_week(index)
        hour_index = ((index - self.history_start_) / pd.Timedelta(hours=1)).to_numpy(float)
        forecast = _Backcast(np.full(len(index), np.nan),
                             self.profile_.forecast(self.design_[how], days_ahead.to_numpy(float)),
                             self.harmonic_.forecast(harmonic_design(hour_index, how // 24, how % 24)),
                             exposure @ self.kernel_)
        _, yhat, excess = _blended(forecast, self.blend_weight_, self.offset_, self.nonnegative_)
        p10, p90 = self.calibration_.bounds(yhat, excess, self.offset_)
        if self.nonnegative_:
            p10, p90 = np.maximum(p10, 0.0), np.maximum(p90, 0.0)
        return pd.DataFrame({"yhat": yhat, "p10": np.minimum(p10, yhat),
                             "p90": np.maximum(p90, yhat)}, index=index)


@dataclass(frozen=True)
class _Backcast:
    """One day of out-of-sample forecasts: both base opinions (log space) and the excess."""

    actual: np.ndarray
    log_profile: np.ndarray
    log_harmonic: np.ndarray
    excess: np.ndarray


def _blended(day: _Backcast, weight: float, offset: float, nonnegative: bool):
    """Return ``(actual, yhat, excess)`` of ``day`` with the harmonic opinion at ``weight``."""
    # a refit on under a week has no harmonic opinion: its day is judged on the profile alone
    log_base = (day.log_profile if weight == 0.0 or not np.isfinite(day.log_harmonic).all()
                else (1.0 - weight) * day.log_profile + weight * day.log_harmonic)
    yhat = np.exp(log_base) - offset + day.excess
    return day.actual, (np.maximum(yhat, 0.0) if nonnegative else yhat), day.excess


def _calibration_cuts(backcasts: dict, weight: float) -> list[int]:
    """Return the cuts whose errors calibrate the band of a forecast blended at ``weight``.

    The band should reflect the errors of the forecast it surrounds, so with a harmonic share
    only the days where the blend existed count, unless they are under
    ``MIN_BLEND_CALIBRATION_DAYS`` (then every day, some judged on the profile alone).
    """
    cuts = list(backcasts)
    if weight == 0.0:
        return cuts
    blended = [c for c in cuts if np.isfinite(backcasts[c].log_harmonic).all()]
    return blended if len(blended) >= MIN_BLEND_CALIBRATION_DAYS else cuts


def _choose_blend(days, offset: float, nonnegative: bool) -> float:
    """Return the blend weight with the least absolute error over the rolling days (0 if none).

    Chosen on days the refits had not seen, so a series decides how much of the smooth
    opinion it wants; ties go to the smaller weight (the profile).
    """
    days = [d for d in days if np.isfinite(d.log_harmonic).all()]
    if not days:
        return 0.0
    losses = []
    for weight in BLEND_WEIGHTS:
        errors = [np.abs(a - f)[np.isfinite(a)] for a, f, _ in (_blended(d, weight, offset, nonnegative)
                                                                  for d in days)]
        losses.append(float(np.mean(np.concatenate(errors))))
    return BLEND_WEIGHTS[int(np.argmin(losses))]


def _validated_history(history) -> pd.Series:
    """Return ``history`` as a float Series on a regular naive-UTC hourly index, or raise."""
    if not isinstance(history, pd.Series):
        raise ValueError("history must be a pandas Series of hourly values")
    if not isinstance(history.index, pd.DatetimeIndex):
        raise ValueError("history must be indexed by timestamps")
    try:
        values = pd.to_numeric(history, errors="raise").astype(float)
    except (TypeError, ValueError):
        raise ValueError("history values must be numeric") from None
    values.index = to_naive_utc(history.index)
    if values.index.has_duplicates or not values.index.is_monotonic_increasing:
        raise ValueError("history timestamps must be strictly increasing")
    if (values.index != values.index.floor("h")).any():
        raise ValueError("history timestamps must be on the hour")
    if np.isinf(values.to_numpy()).any():
        raise ValueError("history contains infinite values")
    values = values.dropna()
    if len(values) < MIN_HISTORY_HOURS:
        raise ValueError(f"history needs at least {MIN_HISTORY_HOURS} observed hours, got {len(values)}")
    return values.asfreq("h")
