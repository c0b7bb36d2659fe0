"""Streaming anomaly detector: one instance per metric series, fed one sample at a time.

How a sample is judged (all causal: only the samples before it are used to judge it):

1. Several baselines predict it: a smoothed level, and the same time slot on the last few
   days and weeks (seasonal medians). Each baseline's evidence counts in proportion to how
   well it has predicted lately, so seasonality is learned, not configured.
2. Its residual is standardised by a robust running scale and judged three ways: as one
   point against the learned residual tail, and as short- and long-window averages
   against their own history (bursts, denser spikes, noisier behaviour).
3. The recent level of the raw value (a short window mean) is judged against its history,
   which catches shifts and excursions that a fast-adapting baseline absorbs.
4. The largest of these surprises (``-log10`` of a tail probability) is the evidence.
   After a warm-up, evidence at or above ``threshold`` raises an alert; for ``refractory``
   samples (at most ``refractory_s``) after an alert the evidence is muted, and it must
   drop below the threshold before the next alert, so one incident gives one alert, unless
   it grows to ``escalation`` times the evidence that raised the alert.

The returned score is ``s / (s + threshold)`` for the post-refractory evidence ``s``: it
lies in [0, 1) and reaches ``threshold_`` (0.5) exactly when an alert is raised.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from engine.detect.baselines import (ChannelSettings, LevelBaseline, ResidualChannels,
                                     SeasonalBaseline)
from engine.detect.params import ParamsMixin
from engine.detect.streaming_stats import WindowEvidence
from engine.detect.timestamps import to_epoch_seconds

__all__ = ["StreamingAnomalyDetector", "to_epoch_seconds"]

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S
_INTERVAL_SAMPLES = 16        # samples used to estimate the sampling interval
_SPREAD_TAU = 500
_SCORE_THRESHOLD = 0.5        # score s/(s+threshold) at s == threshold
# A raw-level excursion this large seen in five past blocks is routine (a nightly batch
# job, a daily spike that wanders by half an hour): it stops counting as evidence.
_LEVEL_ROUTINE_AFTER = 5


class StreamingAnomalyDetector(ParamsMixin):
    """Causal anomaly detector for one metric series (see the module docstring).

    Parameters
    ----------
    threshold : float, default 4.0
        Evidence, in decimal digits of improbability, that raises an alert (4.0 means a
        tail probability of 1e-4 per sample).
    refractory : int, default 150
        Samples after an alert during which evidence is muted (one incident, one alert).
    refractory_s : float, default 86400.0
        The mute also ends this many seconds after the alert (for slowly sampled series).
        Either way a new alert also needs the evidence to have dropped below
        ``threshold`` since the last one: a condition that persists is one incident.
    warmup : int, default 150
        Samples observed before any evidence is reported.
    level_alpha : float, default 0.5
        Smoothing weight of the level baseline.
    seasonal_periods_s : tuple of float, default (86400.0, 604800.0)
        Cycle lengths in seconds tried as seasonal baselines (a day and a week). A cycle
        shorter than four sampling intervals is skipped.
    seasonal_cycles : int, default 3
        Past cycles whose median predicts a seasonal slot.
    level_window : int, default 12
        Samples in the raw-level window.
    level_weight : float, default 0.7
        Weight of the raw-level evidence (it is the least specific channel).
    channels : ChannelSettings or None, default None
        Residual memories and windows; None means ``ChannelSettings()``.
    selection_power : float, default 8.0
        How strongly a baseline's evidence is discounted when it has predicted worse than
        the best one: weight ``(best_error / error) ** selection_power``.
    escalation : float, default 3.0
        During the refractory period an alert is still raised when the evidence reaches
        this multiple of the evidence that opened it (a much larger incident).

    Attributes
    ----------
    n_seen_ : int
        Samples observed.
    interval_s_ : float or None
        Estimated sampling interval in seconds (None until estimated).
    threshold_ : float
        Score at and above which a sample is anomalous (0.5).
    surprise_ : float
        Evidence of the last sample before the refractory mute.
    is_anomaly_ : bool
        Alert decision of the last sample.
    baseline_ : str or None
        Name of the baseline listened to for the last sample.

    Notes
    -----
    The detector draws no random numbers, so there is no ``seed``: the same samples in
    the same order always give the same scores. ``update`` on an unfitted detector
    starts from an empty history, like scikit-learn's ``partial_fit``.
    """

    def __init__(self, *, threshold: float = 4.0, refractory: int = 150,
                 refractory_s: float = DAY_S, warmup: int = 150, level_alpha: float = 0.5,
                 seasonal_periods_s: tuple[float, ...] = (DAY_S, WEEK_S),
                 seasonal_cycles: int = 3, level_window: int = 12, level_weight: float = 0.7,
                 channels: ChannelSettings | None = None, selection_power: float = 8.0,
                 escalation: float = 3.0) -> None:
        self.threshold = threshold
        self.refractory = refractory
        self.refractory_s = refractory_s
        self.warmup = warmup
        self.level_alpha = level_alpha
        self.seasonal_periods_s = seasonal_periods_s
        self.seasonal_cycles = seasonal_cycles
        self.level_window = level_window
        self.level_weight = level_weight
        self.channels = channels
        self.selection_power = selection_power
        self.escalation = escalation

    def fit(self, history: Iterable = ()) -> "StreamingAnomalyDetector":
        """Validate the parameters, reset all state and learn from ``history``.

        Parameters
        ----------
        history : iterable of (timestamp, value) pairs, or a table with ``timestamp``
            and ``value`` columns (e.g. a pandas DataFrame); may be empty.

        Returns
        -------
        StreamingAnomalyDetector
            ``self``, ready for :meth:`update`.

        Raises
        ------
        ValueError
            If a parameter is out of range or a history value is not a finite number.
        """
        self._validate()
        self._reset()
        if hasattr(history, "columns"):
            history = zip(history["timestamp"], history["value"])
        for timestamp, value in history:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"history value is not a finite number: {value!r}")
            self.update(timestamp, value)
        return self

    def update(self, timestamp: Any, value: float) -> float:
        """Score one sample, then learn from it.

        Parameters
        ----------
        timestamp : number (Unix seconds), datetime, numpy.datetime64 or ISO 8601 str
        value : float
            The metric value. A missing (NaN) value is skipped: score 0.0, nothing learned.

        Returns
        -------
        float
            Anomaly score in [0, 1); the sample is anomalous when it is ``>= threshold_``.
        """
        if not hasattr(self, "n_seen_"):
            self.fit()
        x = float(value)
        if not math.isfinite(x):
            self.surprise_, self.is_anomaly_ = 0.0, False
            return 0.0
        t_s = to_epoch_seconds(timestamp)
        n = self.n_seen_
        self._track_interval(t_s)
        floor = self._scale_floor(x)
        evidence = [self.level_weight * self._level.observe(x)]
        evidence += self._baseline_surprises(t_s, x, floor)
        for baseline, _ in self.baselines_.values():
            baseline.learn(t_s, x)
        self.n_seen_ = n + 1
        surprise = max(evidence) if n >= self.warmup else 0.0
        return self._decide(n, t_s, surprise)

    def score_stream(self, timestamps: Iterable, values: Iterable[float]) -> tuple[list[float], list[bool]]:
        """Feed samples in order; return the score and the alert decision of each."""
        scores, alerts = [], []
        for timestamp, value in zip(timestamps, values):
            scores.append(self.update(timestamp, value))
            alerts.append(self.is_anomaly_)
        return scores, alerts

    def _validate(self) -> None:
        if not self.threshold > 0:
            raise ValueError(f"threshold must be > 0, got {self.threshold!r}")
        for name, least in (("refractory", 0), ("warmup", 0), ("seasonal_cycles", 1),
                            ("level_window", 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if not 0 < self.level_alpha <= 1:
            raise ValueError(f"level_alpha must be in (0, 1], got {self.level_alpha!r}")
        if any(p <= 0 for p in self.seasonal_periods_s):
            raise ValueError(f"seasonal periods must be positive, got {self.seasonal_periods_s!r}")

    def _reset(self) -> None:
        self.channels_ = self.channels or ChannelSettings()
        self.n_seen_ = 0
        self.interval_s_: float | None = None
        self.threshold_ = _SCORE_THRESHOLD
        self.surprise_ = 0.0
        self.is_anomaly_ = False
        self.baseline_: str | None = None
        self.baselines_ = {"level": (LevelBaseline(self.level_alpha),
                                     ResidualChannels(self.channels_))}
        self.last_alert_index_: int | None = None
        self._alert_surprise = 0.0
        self._alert_time_s = 0.0
        self._rearmed = True
        self._first_times: list[float] = []
        self._last_value: float | None = None
        self._spread = 0.0
        cfg = self.channels_
        self._level = WindowEvidence(self.level_window, cfg.history_tau, True, (1e-9, 1e-3),
                                     cfg.tail_fraction, cfg.novelty_ratio, cfg.min_count,
                                     routine_after=_LEVEL_ROUTINE_AFTER)

    def _track_interval(self, t_s: float) -> None:
        """Estimate the sampling interval from the first samples, then add seasonal baselines."""
        if self.interval_s_ is not None or len(self._first_times) >= _INTERVAL_SAMPLES:
            return
        self._first_times.append(t_s)
        if len(self._first_times) < _INTERVAL_SAMPLES:
            return
        steps = np.diff(self._first_times)
        steps = steps[steps > 0]
        if not len(steps):
            return  # no usable clock: the level baseline alone
        self.interval_s_ = float(np.median(steps))
        for period in self.seasonal_periods_s:
            if period >= 4 * self.interval_s_:
                name = f"seasonal_{period / 3600:g}h"
                self.baselines_[name] = (
                    SeasonalBaseline(period, self.interval_s_, self.seasonal_cycles, 0.01),
                    ResidualChannels(self.channels_))

    def _scale_floor(self, x: float) -> float:
        """Smallest residual scale: a sliver of the level and of the typical step size."""
        if self._last_value is not None:
            k = min(self.n_seen_, _SPREAD_TAU)
            self._spread += (abs(x - self._last_value) - self._spread) / k
        self._last_value = x
        level = self.baselines_["level"][0].level
        return max(1e-9, 1e-3 * abs(level if level is not None else x), 0.05 * self._spread)

    def _baseline_surprises(self, t_s: float, x: float, floor: float) -> list[float]:
        """Judge ``x`` against every baseline; weigh each by how well it has predicted."""
        best_error, results = math.inf, {}
        self.baseline_ = None
        for name, (baseline, channels) in self.baselines_.items():
            prediction = baseline.predict(t_s)
            if prediction is None:
                continue
            ready, error = channels.ready, channels.error
            if ready and error < best_error:
                self.baseline_, best_error = name, error
            point, low, high = prediction
            outside = x - high if x > high else (x - low if x < low else 0.0)
            surprises = channels.observe(x - point, outside, floor)
            if ready:
                results[name] = (error, surprises)
        evidence = []
        for error, surprises in results.values():
            weight = 1.0 if error <= best_error else (best_error / error) ** self.selection_power
            evidence += [weight * s for s in surprises]
        return evidence

    def _decide(self, n: int, t_s: float, surprise: float) -> float:
        """Apply the refractory mute and the threshold; return the score."""
        self.surprise_ = surprise
        last = self.last_alert_index_
        evidence = surprise
        if last is not None:
            self._rearmed = self._rearmed or surprise < self.threshold
            in_refractory = (n - last <= self.refractory
                             and t_s - self._alert_time_s <= self.refractory_s)
            if in_refractory and n - last <= self.level_window:
                # still the onset of the incident just alerted on: escalation must beat its peak
                self._alert_surprise = max(self._alert_surprise, surprise)
                evidence = 0.0
            elif surprise < self.escalation * self._alert_surprise and (
                    in_refractory or not self._rearmed):
                evidence = 0.0
        score = evidence / (evidence + self.threshold)
        self.is_anomaly_ = score >= self.threshold_
        if self.is_anomaly_:
            self.last_alert_index_, self._alert_time_s = n, t_s
            self._alert_surprise, self._rearmed = surprise, False
        return score
