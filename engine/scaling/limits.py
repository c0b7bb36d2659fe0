"""Pure limits on instance counts: clamp, step limits, scale-down stabilisation.

Every helper takes plain numbers (current, proposed, bounds, a window) and returns a number,
so a table of cases tests it. DESIGN.md: an automatic or standard step changes a service by at
most +50 % / −30 %; a scale-down waits out a 5-minute stabilisation window; min/max bind
everything, emergency actions included.

Choices made here (DESIGN.md is silent):

- A step of one instance is always allowed, so a service at 1 or 2 instances can still move
  (+50 % of 1 would round to 0). Fractional limits round towards ``current``: +50 % of 5 is 7.
- Stabilisation follows the Kubernetes HPA: a scale-down goes only as low as the highest
  recommendation of the last ``window_s`` seconds, which also holds the cooldown after a
  scale-up (the count a scale-up reached was itself a recommendation in the window).
"""

from __future__ import annotations

import math
from typing import Iterable

MAX_STEP_UP = 0.5
MAX_STEP_DOWN = 0.3
STABILISATION_S = 300.0


def clamp_instances(instances: int, min_instances: int, max_instances: int) -> int:
    """Return ``instances`` clamped to ``[min_instances, max_instances]``.

    Raises
    ------
    ValueError
        When ``min_instances > max_instances``.
    """
    if min_instances > max_instances:
        raise ValueError(f"min_instances {min_instances} exceeds max_instances {max_instances}")
    return max(min_instances, min(max_instances, int(instances)))


def step_bounds(current: int, up_frac: float = MAX_STEP_UP,
                down_frac: float = MAX_STEP_DOWN) -> tuple[int, int]:
    """Return ``(lowest, highest)`` counts one step may reach from ``current``.

    Parameters
    ----------
    current : int
        Instances now (ordered: ready plus pending).
    up_frac, down_frac : float
        Largest relative step up and down (0.5 and 0.3).

    Returns
    -------
    tuple of int
        ``lowest = min(ceil(current × (1 − down)), current − 1)`` (never below 0) and
        ``highest = max(floor(current × (1 + up)), current + 1)``.
    """
    # a small epsilon keeps 10 × 1.5 = 15 from flooring to 14 through float rounding
    highest = max(math.floor(current * (1 + up_frac) + 1e-9), current + 1)
    lowest = max(0, min(math.ceil(current * (1 - down_frac) - 1e-9), current - 1))
    return lowest, highest


def limit_step(current: int, proposed: int, up_frac: float = MAX_STEP_UP,
               down_frac: float = MAX_STEP_DOWN) -> int:
    """Return ``proposed`` limited to one step from ``current`` (see ``step_bounds``)."""
    lowest, highest = step_bounds(current, up_frac, down_frac)
    return max(lowest, min(highest, int(proposed)))


def is_standard_step(current: int, proposed: int, min_instances: int, max_instances: int,
                     up_frac: float = MAX_STEP_UP, down_frac: float = MAX_STEP_DOWN) -> bool:
    """True when ``current → proposed`` is a "standard" action: one step, within min/max."""
    if not min_instances <= proposed <= max_instances:
        return False
    return limit_step(current, proposed, up_frac, down_frac) == proposed


def recent_peak(recommendations: Iterable[tuple[float, int]], now_s: float,
                window_s: float = STABILISATION_S) -> int | None:
    """Return the highest recommendation made in ``(now_s − window_s, now_s]``, or None.

    ``recommendations`` are ``(time_s, instances)`` pairs, in any order.
    """
    lo = now_s - window_s
    peak = None
    for t, n in recommendations:
        if lo < t <= now_s and (peak is None or n > peak):
            peak = n
    return peak


def stabilise_scale_down(current: int, proposed: int, window_peak: int | None) -> int:
    """Return the stabilised count: a scale-down goes no lower than ``window_peak``.

    Parameters
    ----------
    current : int
        Instances now.
    proposed : int
        This cycle's recommendation.
    window_peak : int or None
        Highest recommendation of the stabilisation window (``recent_peak``), this cycle's
        included; None when there is none.

    Returns
    -------
    int
        ``proposed`` when it is not a scale-down, else ``min(current, max(proposed, peak))``.
    """
    if proposed >= current:
        return proposed
    floor = proposed if window_peak is None else max(proposed, window_peak)
    return min(current, floor)


def remember_recommendation(recommendations: tuple[tuple[float, int], ...], now_s: float,
                            instances: int, window_s: float = STABILISATION_S
                            ) -> tuple[tuple[float, int], ...]:
    """Return ``recommendations`` plus ``(now_s, instances)``, without those out of the window.

    ``recommendations`` are kept oldest first, as this function builds them.
    """
    lo = now_s - window_s
    first = 0
    for first, r in enumerate(recommendations):  # oldest first: drop the expired prefix
        if r[0] > lo:
            break
    else:
        first = len(recommendations)
    return recommendations[first:] + ((now_s, int(instances)),)
