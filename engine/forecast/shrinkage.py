"""Empirical-Bayes group ridge: penalised least squares whose penalties are learned.

The forecaster's seasonal profile is a sum of effects (hour of day, weekday, hour of week,
...). Each group of coefficients gets a Gaussian prior ``b_g ~ N(0, tau_g^2 K_g^-1)``, where
``K_g`` is a fixed structure matrix (identity for independent effects, a second-difference
matrix for effects that vary smoothly from hour to hour). The prior variances ``tau_g^2`` and
the noise variance ``sigma^2`` are estimated from the data by expectation-maximisation, so a
series whose weekdays look alike shrinks its weekday effects to nothing while a series with a
strong weekly cycle keeps them. This is what lets one fixed configuration serve very
different series without per-series tuning.

Everything works from sufficient statistics (the weighted Gram matrix ``X'WX``, the moment
``X'Wz`` and ``z'Wz``), so callers may aggregate rows into cells first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack

_TINY = 1e-12


@dataclass(frozen=True)
class PenaltyGroup:
    """Columns ``columns`` of the design share one prior with structure matrix ``structure``.

    ``adaptive`` marks a group whose structure the caller re-derives from the fit (see
    :func:`engine.forecast.profile.fit_profile`); this module treats it like any other.
    """

    columns: slice
    structure: np.ndarray
    adaptive: bool = False


@dataclass(frozen=True)
class GroupRidgeFit:
    """Result of :func:`fit_group_ridge`.

    Attributes
    ----------
    coef : ndarray of shape (p,)
        Posterior mean of the coefficients.
    penalty : ndarray of shape (p, p)
        The learned penalty matrix ``sigma^2 * blockdiag(K_g / tau_g^2)``; pass it to
        :func:`solve_ridge` to refit on other data with the same shrinkage.
    noise_var : float
        Estimated residual variance ``sigma^2`` (weighted).
    prior_var : ndarray of shape (n_groups,)
        Estimated ``tau_g^2`` per group.
    """

    coef: np.ndarray
    penalty: np.ndarray
    noise_var: float
    prior_var: np.ndarray


def cyclic_second_difference(n: int) -> np.ndarray:
    """Return ``D'D`` for the cyclic second difference of length ``n`` (a smoothness prior).

    A tiny ridge is added so the matrix is invertible (the constant and linear trends are
    otherwise unpenalised).
    """
    d = np.zeros((n, n))
    for i in range(n):
        d[i, i] = -2.0
        d[i, (i - 1) % n] += 1.0
        d[i, (i + 1) % n] += 1.0
    return d.T @ d + 1e-6 * np.eye(n)


def cyclic_first_difference(n: int) -> np.ndarray:
    """Return the ``(n, n)`` matrix ``D`` of cyclic first differences, ``(D x)_i = x_{i+1} - x_i``."""
    return np.roll(np.eye(n), 1, axis=1) - np.eye(n)


def _penalty_matrix(p: int, groups: list[PenaltyGroup], ratios: np.ndarray) -> np.ndarray:
    pen = np.zeros((p, p))
    for group, ratio in zip(groups, ratios):
        pen[group.columns, group.columns] += group.structure * ratio
    return pen


def _inverse_from_cholesky(factor: tuple[np.ndarray, bool]) -> np.ndarray:
    """Return the inverse of the matrix whose ``cho_factor`` is ``factor``.

    LAPACK's ``potri`` works on the triangle of the factor only: about a third of the cost of
    solving against the identity, which dominates the EM iterations of the larger profiles.
    """
    c, lower = factor
    inv, info = lapack.dpotri(c, lower=lower)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed ({info})")
    tri = np.tril(inv) if lower else np.triu(inv)
    return tri + tri.T - np.diag(np.diag(tri))


def solve_ridge(gram: np.ndarray, moment: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Return ``(gram + penalty)^-1 moment`` (Cholesky; a tiny jitter keeps it positive)."""
    a = gram + penalty + _TINY * np.eye(len(moment))
    return cho_solve(cho_factor(a), moment)


def fit_group_ridge(gram: np.ndarray, moment: np.ndarray, sum_sq: float, n_obs: float,
                    groups: list[PenaltyGroup], *, n_iter: int = 25,
                    start: GroupRidgeFit | None = None) -> GroupRidgeFit:
    """Fit a ridge regression whose group penalties are estimated by EM (empirical Bayes).

    Parameters
    ----------
    gram, moment, sum_sq : ndarray, ndarray, float
        Weighted sufficient statistics ``X'WX``, ``X'Wz`` and ``z'Wz``.
    n_obs : float
        Effective number of observations (sum of weights, weights normalised to mean 1).
    groups : list of PenaltyGroup
        Penalised column groups; columns in no group (e.g. the intercept) are unpenalised.
    n_iter : int, default 25
        EM iterations (fixed, so the result is deterministic and the cost bounded).
    start : GroupRidgeFit or None
        Start the EM from this fit's variances (same groups, e.g. after a reweighting), so
        a few iterations suffice.

    Returns
    -------
    GroupRidgeFit
    """
    p = len(moment)
    total_var = max(sum_sq / max(n_obs, 1.0) - (moment[0] / max(n_obs, 1.0)) ** 2, _TINY)
    if start is None:
        sigma2, tau2 = total_var, np.full(len(groups), total_var)
    else:
        sigma2, tau2 = start.noise_var, np.array(start.prior_var, dtype=float)
    eye = np.eye(p)
    for _ in range(n_iter):
        penalty = _penalty_matrix(p, groups, sigma2 / np.maximum(tau2, _TINY * sigma2))
        factor = cho_factor(gram + penalty + _TINY * eye)
        coef = cho_solve(factor, moment)
        inv = _inverse_from_cholesky(factor)
        rss = max(sum_sq - 2.0 * coef @ moment + coef @ gram @ coef, _TINY)
        dof = float(np.sum(inv * gram))  # trace(inv @ gram), both symmetric
        sigma2 = rss / max(n_obs - dof, 1.0)
        tau2 = np.array([
            (coef[g.columns] @ g.structure @ coef[g.columns]
             + sigma2 * np.sum(g.structure * inv[g.columns, g.columns])) / g.structure.shape[0]
            for g in groups
        ])
    penalty = _penalty_matrix(p, groups, sigma2 / np.maximum(tau2, _TINY * sigma2))
    coef = solve_ridge(gram, moment, penalty)
    return GroupRidgeFit(coef=coef, penalty=penalty, noise_var=float(sigma2), prior_var=tau2)
