"""Constant-memory running statistics for the streaming anomaly detector.

Every class here is updated one sample at a time in O(1) amortised work and never looks
ahead: a value is scored against the statistics of the values *before* it, then added.
Surprises are expressed as ``-log10(tail probability)``, so 3 means "one in a thousand".
"""

from __future__ import annotations

import math
from itertools import accumulate

LOG10_E = math.log10(math.e)
_SQRT2 = math.sqrt(2.0)
_MAX_SURPRISE = 300.0  # -log10 of the smallest tail probability we report


def gaussian_surprise(z: float, two_sided: bool = False) -> float:
    """Return ``-log10`` of the Gaussian tail probability of a standard score.

    Parameters
    ----------
    z : float
        Standard score (deviation divided by the standard deviation).
    two_sided : bool, default False
        Count both tails (``P(|Z| >= |z|)``); otherwise only the upper tail, and a
        negative ``z`` is not surprising at all (0.0).

    Returns
    -------
    float
        Surprise in decimal digits, in ``[0, 300]``.
    """
    if z != z:  # NaN: statistics overflowed (values near the float limit); no evidence
        return 0.0
    if two_sided:
        z = abs(z)
    elif z <= 0.0:
        return 0.0
    tail = math.erfc(z / _SQRT2)
    if not two_sided:
        tail *= 0.5
    return min(_MAX_SURPRISE, -math.log10(tail)) if tail > 0.0 else _MAX_SURPRISE


class RunningMoments:
    """Exponentially weighted mean and variance with a warm start.

    The first ``tau`` samples are averaged with equal weight (rate ``1/k``), later ones
    with rate ``1/tau``, so the estimate is usable from the first samples on.

    Parameters
    ----------
    tau : int
        Memory in samples.
    """

    __slots__ = ("tau", "n", "mean", "var")

    def __init__(self, tau: int) -> None:
        self.tau = tau
        self.n = 0
        self.mean = 0.0
        self.var = 0.0

    def add(self, value: float) -> None:
        """Fold ``value`` into the mean and variance."""
        self.n += 1
        delta = value - self.mean
        rate = 1.0 / min(self.n, self.tau)
        self.mean += rate * delta
        self.var += rate * (delta * delta - self.var) if self.n > 1 else 0.0

    def std(self, floor: float) -> float:
        """Return the standard deviation, never below ``floor``."""
        return max(math.sqrt(self.var), floor)


class RollingMean:
    """Mean of the last ``width`` values (a ring buffer with a running sum).

    Parameters
    ----------
    width : int
        Number of values averaged.
    """

    __slots__ = ("width", "buffer", "total", "index", "count")

    def __init__(self, width: int) -> None:
        self.width = width
        self.buffer = [0.0] * width
        self.total = 0.0
        self.index = 0
        self.count = 0

    def push(self, value: float) -> float | None:
        """Add ``value``; return the window mean, or None until the window is full."""
        self.total += value - self.buffer[self.index]
        self.buffer[self.index] = value
        self.index = (self.index + 1) % self.width
        self.count += 1
        if self.count % (64 * self.width) == 0:  # re-sum now and then: no float drift
            self.total = math.fsum(self.buffer)
        return self.total / self.width if self.count >= self.width else None


class TailModel:
    """Learned upper tail of a non-negative score (a peaks-over-threshold model).

    Scores go into a log-spaced histogram that slowly forgets (memory ``tau``). The tail
    above the ``1 - tail_fraction`` quantile ``u`` is modelled as exponential, with the
    scale ``beta`` read off two quantiles (robust to a few huge past values). A score that
    is no larger than ``novelty_ratio`` times a score already seen is also capped by its
    empirical frequency: a spike as tall as last week's is not news.

    Parameters
    ----------
    tau : int
        Forgetting memory in samples.
    tail_fraction : float
        Share of samples treated as the tail, e.g. 0.02.
    novelty_ratio : float
        A score below ``1 / novelty_ratio`` of a past one counts as seen before.
    min_count : int
        Samples needed before any surprise is reported.
    """

    _N_BINS = 100
    _Z_MAX = 1000.0
    _REFIT_EVERY = 16
    _DECAY_EVERY = 64

    def __init__(self, tau: int, tail_fraction: float, novelty_ratio: float,
                 min_count: int) -> None:
        self.tau = tau
        self.tail_fraction = tail_fraction
        self.novelty_ratio = novelty_ratio
        self.min_count = min_count
        self._log_max = math.log1p(self._Z_MAX)
        self._hist = [0.0] * (self._N_BINS + 1)
        self._total = 0.0
        self._adds = 0
        self._fit: tuple[float, float] | None = None
        self._at_least: list[float] | None = None  # suffix sums of the histogram, lazily

    def _bin(self, z: float) -> int:
        return min(self._N_BINS, int(math.log1p(z) / self._log_max * self._N_BINS))

    def _edge(self, j: int) -> float:
        return math.expm1(j / self._N_BINS * self._log_max)

    def _quantile_above(self, fraction: float) -> float:
        """Score exceeded by ``fraction`` of the mass (linear inside a bin)."""
        target, acc, j = fraction * self._total, 0.0, self._N_BINS
        while j > 0 and acc + self._hist[j] < target:
            acc += self._hist[j]
            j -= 1
        lo, hi = self._edge(j), self._edge(j + 1)
        share = (target - acc) / self._hist[j] if self._hist[j] > 0 else 0.0
        return hi - share * (hi - lo)

    def surprise(self, z: float) -> float:
        """Return ``-log10 P(score >= z)`` under the learned tail (0 inside the bulk)."""
        if self._total < self.min_count:
            return 0.0
        if self._fit is None or self._adds % self._REFIT_EVERY == 0:
            u = self._quantile_above(self.tail_fraction)
            u_far = self._quantile_above(self.tail_fraction / 4.0)
            self._fit = (u, max((u_far - u) / math.log(4.0), 0.1 * u, 1e-9))
        u, beta = self._fit
        if z <= u:
            return 0.0
        surprise = -math.log10(self.tail_fraction) + (z - u) / beta * LOG10_E
        return min(surprise, self.seen_before(z))

    def seen_before(self, z: float, times: float = 1.0) -> float:
        """Return ``-log10`` of how often a score near ``z`` has occurred.

        "Near" means at least ``z / novelty_ratio``. Scores seen fewer than ``times``
        times (after forgetting) are novel: the result is then ``inf``.
        """
        if self._total < self.min_count:
            return math.inf
        if self._at_least is None:
            self._at_least = list(accumulate(reversed(self._hist)))[::-1]
        seen = self._at_least[self._bin(z / self.novelty_ratio)]
        if seen < times - 0.5:
            return math.inf
        return -math.log10((seen + 1.0) / (self._total + 1.0))

    def add(self, z: float) -> None:
        """Record score ``z`` (call after :meth:`surprise`, so a value never scores itself)."""
        self._adds += 1
        if self._adds % self._DECAY_EVERY == 0:
            keep = (1.0 - 1.0 / self.tau) ** self._DECAY_EVERY
            self._hist = [h * keep for h in self._hist]
            self._total *= keep
        self._hist[self._bin(z)] += 1.0
        self._total += 1.0
        self._at_least = None


class WindowEvidence:
    """Evidence that the mean of the last ``width`` values left its usual range.

    The window mean is standardised against the running mean and deviation of past
    window means (a Gaussian tail), then capped by novelty: if a window this large already
    happened ``routine_after`` times or more (counted once per block of ``width`` samples,
    so one long episode is not counted ``width`` times), it is routine and only as
    surprising as its past frequency says.

    Parameters
    ----------
    width : int
        Samples per window.
    tau : int
        Memory of the running statistics, in samples.
    two_sided : bool
        Also count a drop below the usual range (otherwise only a rise).
    sd_floor : tuple of float
        ``(absolute, relative to the running mean)`` lower bounds of the deviation.
    tail_fraction, novelty_ratio : float
        Passed to :class:`TailModel`.
    min_count : int
        Window means needed before any evidence is reported.
    routine_after : int, default 1
        Past occurrences after which a window this large is no longer novel.
    """

    def __init__(self, width: int, tau: int, two_sided: bool, sd_floor: tuple[float, float],
                 tail_fraction: float, novelty_ratio: float, min_count: int,
                 routine_after: int = 1) -> None:
        self.two_sided = two_sided
        self.routine_after = routine_after
        self.sd_floor = sd_floor
        self.min_count = min_count
        self._window = RollingMean(width)
        self._stats = RunningMoments(tau)
        self._blocks = TailModel(max(1, tau // width), tail_fraction, novelty_ratio,
                                 max(1, min_count // width))
        self._block_max = 0.0

    def observe(self, value: float) -> float:
        """Add ``value``; return the evidence (``-log10`` probability) of the new window."""
        mean = self._window.push(value)
        if mean is None:
            return 0.0
        stats, surprise, size = self._stats, 0.0, mean
        if stats.n >= self.min_count:
            centre = stats.mean
            sd = math.sqrt(stats.var)
            floor = max(self.sd_floor[0], self.sd_floor[1] * abs(centre))
            z = (mean - centre) / (sd if sd > floor else floor)
            if self.two_sided:  # a window's size is its deviation in either direction
                size = abs(z) if z == z else 0.0
                surprise = gaussian_surprise(z, True)
            elif z > 0.0:
                surprise = gaussian_surprise(z)
            if surprise > 0.0:
                cap = self._blocks.seen_before(size, self.routine_after)
                surprise = cap if cap < surprise else surprise
        stats.add(mean)
        if size > self._block_max:
            self._block_max = min(size, 1e12)
        if stats.n % self._window.width == 0:
            self._blocks.add(self._block_max)
            self._block_max = 0.0
        return surprise
