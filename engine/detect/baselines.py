"""Causal baselines (what the next value should be) and their residual channels.

A baseline predicts each value from the values before it. ``ResidualChannels`` turns a
baseline's prediction errors into standardised residuals and surprises on three time
scales. The detector runs several baselines side by side and listens to the one that has
predicted best lately, which is how it learns whether a series has a daily or weekly cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.detect.streaming_stats import TailModel, WindowEvidence

_MAX_BUCKETS = 2016           # a week of 5-minute buckets
_CAP_Z = 5.0                  # residuals are capped here before windowed averaging
_WINDOW_SD_FLOOR = 0.01
_Z_LIMIT = 1e12


class LevelBaseline:
    """Exponentially weighted level: the prediction is a smoothed last value.

    Parameters
    ----------
    alpha : float
        Weight of the newest value, in (0, 1].
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.level: float | None = None

    def predict(self, t_s: float) -> tuple[float, float, float] | None:
        """Return ``(point, low, high)`` for time ``t_s``, or None before any data."""
        if self.level is None:
            return None
        return self.level, self.level, self.level

    def learn(self, t_s: float, value: float) -> None:
        """Fold ``value`` into the level."""
        self.level = value if self.level is None else self.level + self.alpha * (value - self.level)


class SeasonalBaseline:
    """Median of the same time slot on the last few cycles, plus a slow level offset.

    The cycle (a day or a week) is cut into buckets as wide as the sampling interval
    (at most 2,016 buckets). The prediction for a bucket is the median of its last
    ``n_cycles`` values; the interval ``(low, high)`` spans the neighbouring buckets too, so
    a pattern that arrives a few minutes early or late is not an error. A slow offset
    follows level shifts, so the profile does not have to be relearned from scratch.

    Parameters
    ----------
    period_s : float
        Cycle length in seconds.
    interval_s : float
        Sampling interval in seconds (estimated by the detector).
    n_cycles : int
        Cycles kept per bucket.
    offset_rate : float
        Rate of the level offset per sample.
    """

    def __init__(self, period_s: float, interval_s: float, n_cycles: int,
                 offset_rate: float) -> None:
        self.period_s = period_s
        self.n_buckets = max(1, int(round(period_s / max(interval_s, period_s / _MAX_BUCKETS))))
        self.width_s = period_s / self.n_buckets
        self.n_cycles = n_cycles
        self.offset_rate = offset_rate
        self.offset = 0.0
        self._recent: list[list[float]] = [[] for _ in range(self.n_buckets)]
        self._median: list[float | None] = [None] * self.n_buckets
        # samples of the cycle in progress, per bucket: they join ``_recent`` as one mean
        # once the cycle is over, so fast samples do not turn the profile into "a minute ago"
        self._cycle: list[int | None] = [None] * self.n_buckets
        self._sum = [0.0] * self.n_buckets
        self._count = [0] * self.n_buckets

    def _slot(self, t_s: float) -> int:
        """Return the bucket of ``t_s``, first closing the bucket's previous cycle."""
        k = int(round(t_s / self.width_s))
        b, cycle = k % self.n_buckets, k // self.n_buckets
        if self._cycle[b] != cycle:
            if self._count[b]:
                recent = self._recent[b]
                recent.append(self._sum[b] / self._count[b])
                if len(recent) > self.n_cycles:
                    recent.pop(0)
                ordered, mid = sorted(recent), len(recent) // 2
                self._median[b] = (ordered[mid] if len(ordered) % 2
                                   else 0.5 * (ordered[mid - 1] + ordered[mid]))
            self._cycle[b], self._sum[b], self._count[b] = cycle, 0.0, 0
        return b

    def predict(self, t_s: float) -> tuple[float, float, float] | None:
        """Return ``(point, low, high)`` for time ``t_s`` from past cycles (None if unseen)."""
        b = self._slot(t_s)
        centre = self._median[b]
        if centre is None:
            return None
        around = [m for m in (self._median[b - 1], centre, self._median[(b + 1) % self.n_buckets])
                  if m is not None]
        return centre + self.offset, min(around) + self.offset, max(around) + self.offset

    def learn(self, t_s: float, value: float) -> None:
        """Add ``value`` to its slot's current cycle and move the offset towards it."""
        b = self._slot(t_s)
        if self._median[b] is not None:
            self.offset += self.offset_rate * (value - self._median[b] - self.offset)
        self._sum[b] += value - self.offset
        self._count[b] += 1


@dataclass(frozen=True)
class ChannelSettings:
    """How residuals are standardised and judged (shared by every baseline's channels).

    Attributes
    ----------
    scale_tau, select_tau, history_tau : int
        Memories, in samples, of the residual scale, of the error that ranks baselines,
        and of the surprise statistics.
    windows : tuple of int
        Widths of the residual-average windows, in samples.
    warm_samples : int
        Residuals seen before the scale is trusted.
    tail_warm : int
        Residuals seen before they enter the tail model (the first ones are noisy).
    tail_fraction, novelty_ratio : float
        Passed to :class:`TailModel`.
    min_count : int
        Samples needed before a channel reports any surprise.
    """

    scale_tau: int = 1000
    select_tau: int = 1000
    history_tau: int = 3000
    windows: tuple[int, ...] = (12, 72)
    warm_samples: int = 30
    tail_warm: int = 100
    tail_fraction: float = 0.02
    novelty_ratio: float = 1.25
    min_count: int = 60


class ResidualChannels:
    """Standardised residuals of one baseline and their surprises on three time scales.

    * point: how unusual this one residual is, against the learned residual tail;
    * short and long windows: how unusual the recent *average* residual is (a burst of
      moderate errors, e.g. spikes arriving more often than usual), against a Gaussian
      fitted to that average's history.

    Parameters
    ----------
    settings : ChannelSettings
        Memories, windows and warm-up lengths.
    """

    def __init__(self, settings: ChannelSettings) -> None:
        cfg = self.settings = settings
        self.n = 0
        self.scale = 0.0
        self.error = 0.0          # mean absolute point error: ranks the baselines
        self._tail = TailModel(cfg.history_tau, cfg.tail_fraction, cfg.novelty_ratio,
                               cfg.min_count)
        self._windows = [WindowEvidence(w, cfg.history_tau, False, (_WINDOW_SD_FLOOR, 0.05),
                                        cfg.tail_fraction, cfg.novelty_ratio, cfg.min_count)
                         for w in cfg.windows]

    @property
    def ready(self) -> bool:
        """True once the residual scale has seen enough samples to standardise with."""
        return self.n > self.settings.warm_samples

    def observe(self, point_error: float, interval_error: float, floor: float) -> list[float]:
        """Score one residual, then learn from it.

        Parameters
        ----------
        point_error : float
            Value minus the baseline's point prediction (ranks baselines).
        interval_error : float
            Distance from the value to the baseline's interval (0 inside it).
        floor : float
            Smallest residual scale allowed (guards flat series against division by ~0).

        Returns
        -------
        list of float
            Surprises ``[point, window_1, window_2, ...]``; all 0.0 until :attr:`ready`.
        """
        surprises = [0.0] * (1 + len(self._windows))
        abs_interval = abs(interval_error)
        if self.ready:
            z = abs_interval / max(self.scale, floor)
            z = min(z, _Z_LIMIT) if z == z else 0.0  # guard against overflowed statistics
            surprises[0] = self._tail.surprise(z)
            if self.n > self.settings.tail_warm:  # the first scale estimates are noisy
                self._tail.add(z)
            capped = min(z, _CAP_Z)
            for k, window in enumerate(self._windows):
                surprises[1 + k] = window.observe(capped)
        self._learn(abs(point_error), abs_interval, floor)
        return surprises

    def _learn(self, abs_point: float, abs_interval: float, floor: float) -> None:
        self.n += 1
        self.error += (abs_point - self.error) / min(self.n, self.settings.select_tau)
        # clip what one residual can add to the scale, so an anomaly does not hide itself
        clipped = abs_interval if not self.ready else min(abs_interval, _CAP_Z * max(self.scale, floor))
        self.scale += (clipped - self.scale) / min(self.n, self.settings.scale_tau)
