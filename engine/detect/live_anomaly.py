"""Live anomaly detection: the streaming detector fed per (service, metric) from the live store.

The leader's alert evaluation calls ``LiveAnomalyMonitor.observe(store, now)``: every watched
series gets the 5 s points stored since its previous call, one ``update`` each (O(1) per
sample), in time order. Reading the store rather than the source's batches means every
source feeds the detector alike, pushed samples included. A series seen for the first time
(a new leader, a restart) is warmed with the last ``history_s`` of 5 s points first.

The detector is ``StreamingAnomalyDetector`` with its defaults (the NAB-scored ones) except
the configured ``threshold``. Its alert marks the onset of an incident; the anomaly
*condition* then stays true while the detector's evidence stays at or above the threshold,
and clears ``clear_after_s`` after the evidence last did (on the engine clock, so a source
that goes silent resolves it too). Conditions are ordinary lifecycle conditions on the rule
``anomaly:<metric>``: pending → firing with the severity's hold time, deduplicated per rule
and service, acknowledged, silenced and resolved like threshold alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from engine.clock import to_epoch_s
from engine.config_model import AnomalyConfig
from engine.detect.anomaly import StreamingAnomalyDetector
from engine.detect.lifecycle import Condition

ANOMALY_PREFIX = "anomaly:"
_RAW_STEP_S = 5.0


@dataclass
class _SeriesState:
    detector: StreamingAnomalyDetector
    last_ts: float                      # newest point fed (Unix seconds)
    last_value: float = float("nan")
    alert_ts: float | None = None       # onset of the open incident
    elevated_ts: float | None = None    # last time the evidence reached the threshold


class LiveAnomalyMonitor:
    """One streaming detector per watched (service, metric); turns incidents into conditions.

    Parameters
    ----------
    config : AnomalyConfig
        Watched metrics, threshold, severity, clear delay, warm-up history.
    services : sequence of str
        The service ids watched.
    """

    def __init__(self, config: AnomalyConfig, services: Sequence[str]):
        self.config = config
        self.services = list(services)
        self._series: dict[tuple[str, str], _SeriesState] = {}

    def observe(self, store, now: datetime) -> list[Condition]:
        """Feed the points stored since the last call; return the anomaly conditions at ``now``."""
        if not self.config.enabled:
            return []
        now_s = to_epoch_s(now)
        found = []
        for service in self.services:
            for metric in self.config.metrics:
                state = self._feed(store, service, metric, now_s)
                condition = self._condition(service, metric, state, now_s)
                if condition is not None:
                    found.append(condition)
        return found

    def _feed(self, store, service: str, metric: str, now_s: float) -> _SeriesState:
        key = (service, metric)
        state = self._series.get(key)
        if state is None:
            detector = StreamingAnomalyDetector(threshold=self.config.threshold).fit()
            state = self._series[key] = _SeriesState(detector, now_s - self.config.history_s - _RAW_STEP_S)
        ts, values = store.series(service, metric, since=state.last_ts + _RAW_STEP_S, until=now_s,
                                  resolution="raw")
        detector = state.detector
        for t, x in zip(ts.tolist(), values.tolist()):
            detector.update(t, x)
            if detector.is_anomaly_ and state.alert_ts is None:
                state.alert_ts = t
            if state.alert_ts is not None and detector.surprise_ >= detector.threshold:
                state.elevated_ts = t
            state.last_ts, state.last_value = t, x
        return state

    def _condition(self, service: str, metric: str, state: _SeriesState, now_s: float) -> Condition | None:
        if state.alert_ts is None:
            return None
        if now_s - (state.elevated_ts or state.alert_ts) > self.config.clear_after_s:
            state.alert_ts = state.elevated_ts = None   # the incident is over
            return None
        return Condition(service, ANOMALY_PREFIX + metric, self.config.severity, state.last_value,
                         self.config.threshold)
