"""The simulator's demand model: request rate per service from time and the wedding calendar.

Pure and vectorised over timestamps (Unix seconds, UTC), so live steps and a 90-day backfill
use the same code. Demand of a service at ``t``::

    base_rps × daily(t) × weekly(t) × season(t) × (1 + wedding_extra(t)) × (1 + noise)

Choices (DESIGN.md leaves the shape open):

- daily: a raised cosine, lowest at 04:30 UTC (0.3), highest at 16:30 (1.25), so the
  afternoon and evening are busy;
- weekly: Saturday 1.6, Friday 1.25, Sunday 1.2, Thursday 1.05, other days 1.0;
- season: 0.8 in mid-January up to 1.25 in mid-July, so May–October run higher;
- weddings: each active wedding adds a multiple of the baseline, per 100 guests, that
  depends on its phase (a ramp during preparation, a spike in the ceremony — about 4× on
  ``api`` for 100 guests — a plateau in the reception where photo uploads make
  ``file-storage`` and ``ai-services`` heavier, and an exponential decay in the wind-down).
  Concurrent weddings add up, softly capped at ``WEDDING_EXTRA_CAP`` (``cap × tanh(sum/cap)``)
  because the platform's shared paths saturate before the sum of every wedding's peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from engine.clock import to_epoch_s
from engine.services import ServiceSpec
from engine.weddings import Wedding

DAY_S = 86_400.0
YEAR_DAYS = 365.2425
WEEKLY = np.array([1.0, 1.0, 1.0, 1.05, 1.25, 1.6, 1.2])  # Monday .. Sunday
WEDDING_EXTRA_CAP = 8.0
REFERENCE_GUESTS = 100.0
WIND_DOWN_DECAY = 3.0  # e-folds over the wind-down hour

# Extra load per 100 guests, in multiples of the service's baseline at that moment:
# (preparation peak, ceremony, reception).
WEDDING_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "api": (0.6, 3.0, 1.0),
    "database": (0.4, 2.0, 0.8),
    "file-storage": (0.3, 1.5, 2.5),
    "real-time": (0.5, 3.5, 1.2),
    "ai-services": (0.2, 1.0, 3.0),
}
DEFAULT_WEDDING_WEIGHTS = (0.5, 3.0, 1.0)


@dataclass(frozen=True)
class WeddingTimes:
    """A wedding's phase boundaries as Unix seconds and its size relative to 100 guests."""

    window_start: float
    ceremony_start: float
    reception_start: float
    reception_end: float
    window_end: float
    size: float


def wedding_times(weddings: Iterable[Wedding], since: float, until: float) -> list[WeddingTimes]:
    """Return the uncancelled weddings whose window overlaps ``[since, until]``, as numbers."""
    out = []
    for w in weddings:
        if w.cancelled:
            continue
        start, end = to_epoch_s(w.window_start), to_epoch_s(w.window_end)
        if end <= since or start > until:
            continue
        out.append(WeddingTimes(start, to_epoch_s(w.ceremony_start), to_epoch_s(w.reception_start),
                                to_epoch_s(w.reception_end), end,
                                max(0.0, w.guest_count) / REFERENCE_GUESTS))
    return out


def daily_factor(ts: np.ndarray) -> np.ndarray:
    """Return the time-of-day factor (0.3 at 04:30 UTC … 1.25 at 16:30 UTC)."""
    hour = np.mod(ts, DAY_S) / 3600.0
    s = (1.0 - np.cos(2.0 * np.pi * (hour - 4.5) / 24.0)) / 2.0
    return 0.3 + 0.95 * s ** 1.5


def weekly_factor(ts: np.ndarray) -> np.ndarray:
    """Return the day-of-week factor (Saturday highest, Friday and Sunday elevated)."""
    weekday = (np.floor(ts / DAY_S).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return WEEKLY[weekday]


def season_factor(ts: np.ndarray) -> np.ndarray:
    """Return the seasonal factor (0.8 mid-January … 1.25 mid-July)."""
    year_frac = np.mod(ts / DAY_S, YEAR_DAYS) / YEAR_DAYS
    return 0.8 + 0.45 * (1.0 - np.cos(2.0 * np.pi * (year_frac - 0.04))) / 2.0


def baseline_rps(spec: ServiceSpec, ts: np.ndarray) -> np.ndarray:
    """Return the noise-free demand without weddings, requests per second."""
    return spec.base_rps * daily_factor(ts) * weekly_factor(ts) * season_factor(ts)


def wedding_extra(service: str, ts: np.ndarray, weddings: Sequence[WeddingTimes]) -> np.ndarray:
    """Return the extra load of the active weddings as a multiple of the baseline (soft-capped)."""
    prep, ceremony, reception = WEDDING_WEIGHTS.get(service, DEFAULT_WEDDING_WEIGHTS)
    total = np.zeros(len(ts))
    for w in weddings:
        lo, hi = np.searchsorted(ts, [w.window_start, w.window_end], side="left")
        if lo >= hi:
            continue
        t = ts[lo:hi]
        ramp = prep * (t - w.window_start) / max(w.ceremony_start - w.window_start, 1.0)
        decay = reception * np.exp(-WIND_DOWN_DECAY * (t - w.reception_end)
                                   / max(w.window_end - w.reception_end, 1.0))
        extra = np.select([t < w.ceremony_start, t < w.reception_start, t < w.reception_end],
                          [ramp, ceremony, reception], decay)
        total[lo:hi] += w.size * extra
    return WEDDING_EXTRA_CAP * np.tanh(total / WEDDING_EXTRA_CAP)


def demand_rps(spec: ServiceSpec, ts: np.ndarray, weddings: Sequence[WeddingTimes],
               z_fast: np.ndarray, z_slow: np.ndarray) -> np.ndarray:
    """Return the simulated demand of ``spec`` at sorted timestamps ``ts``, requests per second.

    Parameters
    ----------
    spec : ServiceSpec
        The service (its ``base_rps`` and name pick the weights).
    ts : numpy.ndarray
        Sorted Unix seconds.
    weddings : sequence of WeddingTimes
        Weddings that may be active over ``ts`` (see ``wedding_times``).
    z_fast, z_slow : numpy.ndarray
        Standard normal noise per step: independent per step (3 %) and slowly varying (6 %).
    """
    noise = 1.0 + 0.03 * z_fast + 0.06 * z_slow
    demand = baseline_rps(spec, ts) * (1.0 + wedding_extra(spec.name, ts, weddings)) * noise
    return np.maximum(demand, 0.0)
