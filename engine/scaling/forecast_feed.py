"""The live autoscaler's seam to the forecaster: demand expected at the time an order is ready.

``Autoscaler.forecast_for(service, at)`` returns a ``LoadForecast`` (p50/p90 request rate) or
None, and None means "scale reactively". This feed answers only when the forecaster has a
model for the service that it already loaded and whose recent accuracy is good
(``ForecastService.is_reliable``); it never trains a model and never raises, because it runs
inside every autoscaling cycle. The forecast of an hour is computed once and kept until the
hour is over.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from engine.scaling.inputs import LoadForecast

log = logging.getLogger(__name__)


class ForecastFeed:
    """Callable ``(service, at) -> LoadForecast | None`` over a ``ForecastService``."""

    def __init__(self, forecasts):
        self.forecasts = forecasts
        self._hour: datetime | None = None
        self._cache: dict[str, LoadForecast | None] = {}

    def __call__(self, service: str, at: datetime) -> LoadForecast | None:
        hour = at.replace(minute=0, second=0, microsecond=0)
        if hour != self._hour:
            self._hour, self._cache = hour, {}
        if service not in self._cache:
            self._cache[service] = self._forecast(service, hour)
        found = self._cache[service]
        return None if found is None else LoadForecast(at, found.p50_rps, found.p90_rps)

    def _forecast(self, service: str, hour: datetime) -> LoadForecast | None:
        try:
            if not self.forecasts.has_loaded_model(service) or not self.forecasts.is_reliable(service):
                return None
            outlook = self.forecasts.outlook(hour, 1, services=[service], plan_timeline=False)
            series = outlook.services[service]
            return LoadForecast(hour + timedelta(minutes=30), float(series.p50[0]), float(series.p90[0]))
        except Exception:  # reactive scaling must go on whatever the forecaster does
            log.exception("forecast for %s unavailable; scaling reactively", service)
            return None
