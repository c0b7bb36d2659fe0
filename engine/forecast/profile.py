"""Seasonal profile with day levels, in log space: the forecaster's model of ordinary load.

``z_t = profile[hour_of_week(t)] + level[day(t)] + deviation[day(t)] + noise``

- ``profile`` is the design of :func:`engine.forecast.features.profile_design` (hour of day,
  weekday, weekend x hour, hour of week), each block shrunk by empirical Bayes; the
  adaptive hour-of-day block pools the hours of flat stretches of the day.
- ``level`` is a random walk over days (a slowly moving level: growth into the season, a
  new customer) and ``deviation`` an independent effect per day (a busy Friday). Their
  variances are learned too, so a flat series gets a flat level and a drifting one follows
  its drift. Days are counted back from the end of the history in 24-hour blocks.
- The forecast continues the last level and the last deviation damped by its day-to-day
  persistence ``phi`` (least-squares AR(1) of the deviations, clipped to [0, 1]).

With under three weeks of history a day's level cannot be told apart from its weekday, so
day levels are then left out and ``phi`` is estimated on daily means of the residuals.
Everything is computed from per-cell and per-day sums, so the cost does not grow with the
number of hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.forecast.shrinkage import PenaltyGroup, cyclic_first_difference, fit_group_ridge, solve_ridge

N_CELLS = 168
_LEVEL_RIDGE = 1e-4   # keeps the random-walk prior proper (its mean is set by the intercept)


@dataclass(frozen=True)
class ProfilePenalty:
    """Learned shrinkage, reusable for refits on shorter stretches of the same series."""

    profile: np.ndarray
    level_ratio: float | None       # sigma^2 / tau^2 of the day-level random walk
    deviation_ratio: float | None   # sigma^2 / tau^2 of the daily deviations


@dataclass(frozen=True)
class ProfileFit:
    """A fitted profile: coefficients, in-sample fit and what the next days start from."""

    coef: np.ndarray
    penalty: ProfilePenalty
    fitted: np.ndarray     # in-sample log fit per hour (profile + that day's level)
    level: float           # level of the last day
    deviation: float       # the last day's deviation
    persistence: float     # day-to-day persistence of the deviation

    def forecast(self, design_rows: np.ndarray, days_ahead: np.ndarray) -> np.ndarray:
        """Return the log-space forecast for rows of the design ``days_ahead`` (>= 1) days out."""
        return design_rows @ self.coef + self.level + self.deviation * self.persistence ** days_ahead


def _random_walk(n: int) -> np.ndarray:
    d = np.diff(np.eye(n), 1, axis=0)
    return d.T @ d + _LEVEL_RIDGE * np.eye(n)


def _persistence(deviations: np.ndarray) -> float:
    if len(deviations) < 3:
        return 0.0
    prev, nxt = deviations[:-1], deviations[1:]
    return float(np.clip(prev @ nxt / max(prev @ prev, 1e-12), 0.0, 1.0))


def _daily_means(residual: np.ndarray, weights: np.ndarray, day: np.ndarray, n_days: int) -> np.ndarray:
    w = np.bincount(day, weights=weights, minlength=n_days)
    s = np.bincount(day, weights=weights * residual, minlength=n_days)
    return np.where(w > 0, s / np.maximum(w, 1e-12), 0.0)


class _Statistics:
    """Weighted sufficient statistics of the profile (+ day levels) regression."""

    def __init__(self, z, weights, how, design, day, n_days, day_levels):
        cell_w = np.bincount(how, weights=weights, minlength=N_CELLS)
        gram = design.T @ (design * cell_w[:, None])
        moment = design.T @ np.bincount(how, weights=weights * z, minlength=N_CELLS)
        if day_levels:
            cell_day = np.bincount(how * n_days + day, weights=weights,
                                   minlength=N_CELLS * n_days).reshape(N_CELLS, n_days)
            cross = design.T @ cell_day
            days = np.diag(np.bincount(day, weights=weights, minlength=n_days))
            day_sum = np.bincount(day, weights=weights * z, minlength=n_days)
            # columns: profile | level (random walk) | deviation (independent), both per day
            gram = np.block([[gram, cross, cross], [cross.T, days, days], [cross.T, days, days]])
            moment = np.concatenate([moment, day_sum, day_sum])
        self.gram, self.moment = gram, moment
        self.sum_sq, self.n_obs = float(np.sum(weights * z * z)), float(np.sum(weights))


def fit_profile(z: np.ndarray, weights: np.ndarray, how: np.ndarray, design: np.ndarray,
                groups: list[PenaltyGroup], *, day_levels: bool, penalty: ProfilePenalty | None,
                robust_k: float | None) -> ProfileFit:
    """Fit the profile (and day levels) to log values ``z``; learn the shrinkage unless given.

    Parameters
    ----------
    z, weights, how : ndarray of shape (n,)
        Log values (any value where the weight is 0), weights >= 0, hour-of-week cells.
    design, groups
        From :func:`engine.forecast.features.profile_design`.
    day_levels : bool
        Include the day-level random walk and daily deviations.
    penalty : ProfilePenalty or None
        Reuse this shrinkage (refits); None learns it by empirical Bayes. Groups marked
        ``adaptive`` then get their step weights from the fit, ``ADAPT_ROUNDS`` times
        (:func:`_adapted`); the learned penalty keeps the final weights.
    robust_k : float or None
        After the fit, residuals beyond ``robust_k`` robust standard deviations are clipped
        and the fit is repeated once, so a flash spike or an outage does not bend the profile
        of its hour for weeks.
    """
    n, n_prof = len(z), design.shape[1]
    n_days = (n + 23) // 24
    day = (n_days - 1) - (n - 1 - np.arange(n)) // 24
    stats = _Statistics(z, weights, how, design, day, n_days, day_levels)
    if penalty is None:
        all_groups = list(groups)
        if day_levels:
            all_groups += [PenaltyGroup(slice(n_prof, n_prof + n_days), _random_walk(n_days)),
                           PenaltyGroup(slice(n_prof + n_days, n_prof + 2 * n_days), np.eye(n_days))]
        adaptive = any(g.adaptive for g in all_groups)
        fit = fit_group_ridge(stats.gram, stats.moment, stats.sum_sq, stats.n_obs, all_groups,
                              n_iter=ADAPT_FIRST_ITER if adaptive else 25)
        for _ in range(ADAPT_ROUNDS if adaptive else 0):
            all_groups = _adapted(all_groups, fit, design, stats.n_obs)
            fit = fit_group_ridge(stats.gram, stats.moment, stats.sum_sq, stats.n_obs, all_groups,
                                  n_iter=ADAPT_ITER, start=fit)
        pen = fit.penalty
        penalty = ProfilePenalty(
            pen[:n_prof, :n_prof],
            pen[n_prof, n_prof] / _random_walk(n_days)[0, 0] if day_levels else None,
            pen[-1, -1] if day_levels else None)
    full_penalty = _full_penalty(penalty, n_days, day_levels)
    coef = solve_ridge(stats.gram, stats.moment, full_penalty)
    fitted = _fitted(coef, design, how, day, n_days, day_levels)
    used = weights > 0
    if robust_k is not None and used.any():
        resid = z - fitted
        sigma = 1.4826 * float(np.median(np.abs(resid[used] - np.median(resid[used]))))
        if sigma > 0:
            clipped = fitted + np.clip(resid, -robust_k * sigma, robust_k * sigma)
            stats = _Statistics(clipped, weights, how, design, day, n_days, day_levels)
            coef = solve_ridge(stats.gram, stats.moment, full_penalty)
            fitted = _fitted(coef, design, how, day, n_days, day_levels)
    if day_levels:
        level, deviations = coef[n_prof:n_prof + n_days], coef[n_prof + n_days:]
        last_level = float(level[-1])
    else:
        deviations = _daily_means(np.where(used, z - fitted, 0.0), weights, day, n_days)
        last_level = 0.0
    return ProfileFit(coef[:n_prof], penalty, fitted, last_level, float(deviations[-1]),
                      _persistence(deviations[-28:]))


# EM iterations: a short cold fit, then reweightings of the adaptive step prior, each a
# warm-started refit; 28 in all, about the cost of one plain 25-iteration fit
ADAPT_FIRST_ITER = 12
ADAPT_ROUNDS = 4
ADAPT_ITER = 4
ADAPT_EPS = 1e-6      # keeps the step prior proper (the daily mean is the intercept's)


def _adapted(groups: list[PenaltyGroup], fit, design: np.ndarray, n_obs: float) -> list[PenaltyGroup]:
    """Return ``groups`` with the adaptive group's structure reweighted from the current fit.

    The adaptive group is a prior on the hour-to-hour steps of the daily shape whose weight
    per step is ``1 / (step^2 + delta^2)`` (normalised to mean 1; ``delta^2`` = the sampling
    variance of a step between two hourly means): steps the data show as zero are pulled
    together hard, so flat stretches of the day pool all their hours, while a real jump keeps
    a near-zero weight and stays sharp. A Gaussian prior with one variance for all hours
    cannot do both: a series with a sharp daily edge (a shift starting) left every hour free.
    """
    n_prof = design.shape[1]
    hod = (design @ fit.coef[:n_prof]).reshape(7, 24).mean(axis=0)
    step = cyclic_first_difference(24)
    delta2 = 2.0 * fit.noise_var / max(n_obs / 24.0, 1.0)
    w = 1.0 / ((step @ hod) ** 2 + delta2)
    structure = step.T @ ((w / w.mean())[:, None] * step) + ADAPT_EPS * np.eye(24)
    return [PenaltyGroup(g.columns, structure, True) if g.adaptive else g for g in groups]


def _full_penalty(penalty: ProfilePenalty, n_days: int, day_levels: bool) -> np.ndarray:
    if not day_levels:
        return penalty.profile
    n_prof = penalty.profile.shape[0]
    full = np.zeros((n_prof + 2 * n_days,) * 2)
    full[:n_prof, :n_prof] = penalty.profile
    full[n_prof:n_prof + n_days, n_prof:n_prof + n_days] = penalty.level_ratio * _random_walk(n_days)
    full[n_prof + n_days:, n_prof + n_days:] = penalty.deviation_ratio * np.eye(n_days)
    return full


def _fitted(coef, design, how, day, n_days, day_levels) -> np.ndarray:
    n_prof = design.shape[1]
    fitted = (design @ coef[:n_prof])[how]
    if day_levels:
        fitted = fitted + coef[n_prof:n_prof + n_days][day] + coef[n_prof + n_days:][day]
    return fitted
