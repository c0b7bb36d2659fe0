"""Short-horizon demand forecaster of the replay: past demand and the calendar only.

``wedscale`` in a replay needs, at every step, the demand expected when an instance ordered
now would be ready (the provisioning delay plus the metric lag ahead). This forecaster is
streaming and causal: ``update`` appends the newest delivered minute, ``forecast`` looks
ahead from it, and nothing else is ever read.

How it forecasts (choices made here, since the protocol leaves them open):

- **Coarse sources.** Demand series are often sampled coarsely (CloudWatch: 5 min) and
  interpolated to minutes upstream. The forecaster finds that period ``P`` from the kinks of
  the series (where the slope changes): when recent kinks are all multiples of ``P > 1``
  apart, the series is taken as piecewise linear between samples every ``P`` minutes, so
  once one minute of a segment is seen, the rest of it — up to the next sample — is known.
  A smooth or noisy series has a kink every minute and ``P = 1``.
- **Future samples.** A sample ``n`` periods ahead is bounded by the sharpest of several
  candidate bases, each calibrated online (split-conformal on the last
  ``calibration_samples`` samples): the last sample (persistence) and rolling quantiles of
  the last 3 h and 24 h of samples. For each base and ``n`` the ratio ``sample / base`` gives
  a median and an upper quantile; the base with the lowest quantile (pinball) loss wins for
  that ``n``. Calibration is refreshed every hour. Bases are floored at 10 % of the mean
  (ratios to a near-zero base say nothing) and bounds capped at 1.5 × the day's highest
  sample (a sparse, bursty series must not multiply a burst by its quiet-time ratios).
- **Ceremonies.** Bookings are known in advance: while a ceremony start is still ahead of the
  delivered data, a target inside its first hour gets the ceremony's jump added — a share of
  its ``expected_peak_rps`` learned from the ceremonies already seen (before any: ``1.0``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

KINK_TOLERANCE_RPS = 0.005   # CSV values carry 3 decimals; a rounding wobble is no kink
LEVEL_WINDOWS_MIN = (180, 1440)
REFRESH_MIN = 60
BASE_FLOOR_SHARE = 0.1     # ratios to a base near zero say nothing: floor it at 10 % of the mean
CAP_OVER_DAY_MAX = 1.5     # a sample bound never exceeds 1.5 × the highest sample of the last day
CEREMONY_SPAN_MIN = 60
JUMP_MEASURE_MIN = 10


@dataclass(frozen=True)
class Ceremony:
    """A booked ceremony in trace minutes: ``start_min`` from the first row."""

    start_min: int
    expected_peak_rps: float


class DemandForecaster:
    """Streaming median and upper-quantile forecast of per-minute demand.

    Parameters
    ----------
    quantile : float
        Level of the upper bound (0.9 = p90).
    calibration_samples : int
        How many recent samples calibrate the ratios.
    ceremonies : tuple of Ceremony
        The calendar, known in advance.
    prior_jump : float
        Ceremony jump as a share of ``expected_peak_rps`` before any ceremony was seen.
    """

    def __init__(self, quantile: float = 0.875, calibration_samples: int = 2016,
                 ceremonies: tuple[Ceremony, ...] = (), prior_jump: float = 1.0):
        self.quantile = quantile
        self.calibration_samples = calibration_samples
        self.ceremonies = ceremonies
        self.prior_jump = prior_jump

    # -- state -------------------------------------------------------------------------
    def _start(self) -> None:
        self.values_: list[float] = []
        self.kinks_: list[int] = []
        self.period_ = 1
        self.samples_: list[float] = []
        self.bases_: list[list[float]] = [[] for _ in range(1 + len(LEVEL_WINDOWS_MIN))]
        self.windows_: list[list[float]] = [[] for _ in LEVEL_WINDOWS_MIN]
        self.ratios_: dict[int, tuple[int, float, float]] = {}
        self.jumps_: list[float] = []
        self._next_ceremony = 0
        self._last_refresh = -REFRESH_MIN
        self._bounds: dict = {}
        self.floor_ = 1.0

    def update(self, value: float) -> None:
        """Append the next minute's demand (requests/s)."""
        if not hasattr(self, "values_"):
            self._start()
        v = self.values_
        v.append(float(value))
        m = len(v) - 1
        if m >= 2 and abs(v[m] - 2 * v[m - 1] + v[m - 2]) > KINK_TOLERANCE_RPS + 1e-6 * abs(v[m]):
            self.kinks_.append(m - 1)
            self._detect_period()
        if self._is_sample_time(m):
            self._add_sample(v[m])
        if m - self._last_refresh >= REFRESH_MIN:
            self._refresh()
            self._last_refresh = m
        self._learn_jumps(m)

    def _detect_period(self) -> None:
        """Set ``period_`` from the last kinks: their smallest gap, if all gaps are multiples."""
        recent = self.kinks_[-9:]
        if len(recent) < 5:
            return
        gaps = [b - a for a, b in zip(recent, recent[1:])]
        p = min(gaps)
        self.period_ = p if p > 1 and not any(g % p for g in gaps) else 1

    def _is_sample_time(self, m: int) -> bool:
        """True when minute ``m`` carries a sample (a knot of the coarse source)."""
        if self.period_ == 1 or not self.kinks_:
            return True
        return (m - self.kinks_[-1]) % self.period_ == 0

    def _add_sample(self, value: float) -> None:
        """Record a sample and the bases every candidate had for it."""
        self.samples_.append(value)
        self.bases_[0].append(value)
        for i, minutes in enumerate(LEVEL_WINDOWS_MIN):
            window = self.windows_[i]  # sorted copy of the newest len(window) samples
            bisect.insort(window, value)
            size = max(1, minutes // self.period_)
            while len(window) > size:  # the period may have changed: shrink to the new size
                window.pop(bisect.bisect_left(window, self.samples_[-len(window)]))
            self.bases_[i + 1].append(window[min(len(window) - 1, int(self.quantile * len(window)))])

    def _refresh(self) -> None:
        """Recalibrate the ratio quantiles and pick the sharpest base per horizon."""
        s = np.asarray(self.samples_[-self.calibration_samples - 3:], dtype=float)
        if len(s) < 20:
            return
        k = len(s)
        self.floor_ = max(1.0, BASE_FLOOR_SHARE * float(s.mean()))
        bases = [np.maximum(np.asarray(b[-k:], dtype=float), self.floor_) for b in self.bases_]
        for n in (1, 2, 3):
            best = None
            for c, b in enumerate(bases):
                b = b[:-n]
                r = s[n:] / b
                hi, med = np.quantile(r, [self.quantile, 0.5])
                miss = s[n:] - b * hi
                loss = float(np.mean(np.maximum(self.quantile * miss, (self.quantile - 1) * miss)))
                if best is None or loss < best[0]:
                    best = (loss, c, float(med), float(hi))
            self.ratios_[n] = best[1:]

    def _learn_jumps(self, m: int) -> None:
        """Measure the jump of each ceremony once its first minutes are delivered."""
        cs = self.ceremonies
        while self._next_ceremony < len(cs) and cs[self._next_ceremony].start_min + JUMP_MEASURE_MIN <= m:
            c = cs[self._next_ceremony]
            self._next_ceremony += 1
            if c.start_min < 5 or c.expected_peak_rps <= 0:
                continue
            before = np.mean(self.values_[c.start_min - 5: c.start_min])
            after = max(self.values_[c.start_min: c.start_min + JUMP_MEASURE_MIN])
            self.jumps_.append(max(0.0, after - before) / c.expected_peak_rps)

    # -- forecast ----------------------------------------------------------------------
    def _sample_bound(self, n: int) -> tuple[float, float]:
        """Return (median, upper) of the sample ``n`` periods after the last one (cached)."""
        n = min(n, 3)
        key = (len(self.samples_), self._last_refresh, n)
        cached = self._bounds.get(key)
        if cached is None:
            if len(self._bounds) > 8:
                self._bounds.clear()
            cached = self._bounds[key] = self._compute_bound(n)
        return cached

    def _compute_bound(self, n: int) -> tuple[float, float]:
        """Return (median, upper) of the sample ``n`` periods ahead from the calibration."""
        if n not in self.ratios_:
            last = self.samples_[-1]
            return last, 2.0 * last
        c, med, hi = self.ratios_[n]
        base = max(self.bases_[c][-1], self.floor_)
        cap = CAP_OVER_DAY_MAX * self.windows_[-1][-1]
        return min(base * med, cap), min(base * hi, cap)

    def forecast(self, minutes_ahead: int) -> tuple[float, float]:
        """Return ``(p50, upper)`` demand, requests/s, ``minutes_ahead`` after the last minute.

        Raises
        ------
        ValueError
            Before the first ``update``.
        """
        if not getattr(self, "values_", None):
            raise ValueError("the forecaster has seen no demand yet")
        v, p = self.values_, self.period_
        m = len(v) - 1
        t = m + minutes_ahead
        anchor = m if p == 1 or not self.kinks_ else m - (m - self.kinks_[-1]) % p
        if anchor < m and t <= anchor + p:            # inside the segment already seen
            value = v[anchor] + (v[m] - v[anchor]) * (t - anchor) / (m - anchor)
            med = hi = value
        else:
            end = anchor + p if anchor < m else m
            end_value = v[anchor] + (v[m] - v[anchor]) * (end - anchor) / (m - anchor) if anchor < m else v[m]
            n, rest = divmod(t - end, p)
            w = rest / p
            lo_med, lo_hi = (end_value, end_value) if n == 0 else self._sample_bound(n)
            up_med, up_hi = self._sample_bound(n + 1)
            med = (1 - w) * lo_med + w * up_med
            hi = (1 - w) * lo_hi + w * up_hi
        jump_med, jump_hi = self._ceremony_jump(m, t)
        return med + jump_med, hi + jump_hi

    def _ceremony_jump(self, m: int, t: int) -> tuple[float, float]:
        """Return the (median, upper) jump of ceremonies starting in ``(m, t]`` and still on."""
        med = hi = 0.0
        for c in self.ceremonies[self._next_ceremony:]:
            if c.start_min > t:
                break
            if m < c.start_min <= t < c.start_min + CEREMONY_SPAN_MIN:
                if self.jumps_:
                    med += float(np.median(self.jumps_)) * c.expected_peak_rps
                    hi += max(self.jumps_) * c.expected_peak_rps
                else:
                    med += self.prior_jump * c.expected_peak_rps
                    hi += self.prior_jump * c.expected_peak_rps
        return med, hi
