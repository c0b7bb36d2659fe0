"""The forecast service: fit and version models, forecast wedding days, seasons and horizons,
store every forecast and track its accuracy.

Each method gathers (metric history from the live store, the calendar, the cluster's sizes),
calls the pure core (:class:`~engine.forecast.model.LoadForecaster`,
:func:`~engine.forecast.outlook.build_outlook`, :mod:`~engine.forecast.accuracy`) and stores
what it made. The forecast metric is each service's request rate (hourly means, req/s): it is
what capacity is sized on.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select

from engine.clock import Clock, to_epoch_s
from engine.errors import Conflict, NotFound
from engine.forecast import accuracy as acc
from engine.forecast.calendar_io import calendar_from_weddings
from engine.forecast.model import MIN_HISTORY_HOURS, LoadForecaster
from engine.forecast.outlook import Outlook, OutlookInputs, build_outlook, outlook_json
from engine.forecast.requests import PredictionRequest
from engine.forecast.season import WEEKS, SeasonWeek, season_start, season_view
from engine.forecast.versions import ModelVersion, TamperedModel, latest_ids, load_version, record_version
from engine.services import ServiceSpec
from engine.storage.db import Database
from engine.storage.models import ForecastRow
from engine.weddings import Wedding

log = logging.getLogger(__name__)

METRIC = "request_rate"
HISTORY_DAYS = 90
RELOAD = timedelta(seconds=60)
HOUR = timedelta(hours=1)


def floor_hour(when: datetime) -> datetime:
    """Return ``when`` in UTC, floored to the hour."""
    return when.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def hourly_history(store, service: str, metric: str, until: datetime, days: int) -> pd.Series:
    """Return hourly means of ``metric`` for the ``days`` before ``until`` (an hour boundary).

    Indexed by naive UTC hours; hours without data are absent.
    """
    end = floor_hour(until)
    ts, values = store.series(service, metric, to_epoch_s(end - timedelta(days=days)), to_epoch_s(end) - 1,
                              resolution="1h")
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(ts, float), unit="s")).floor("h")
    series = pd.Series(np.asarray(values, float), index=index)
    return series[~series.index.duplicated(keep="last")]


def wedding_day_range(wedding: Wedding) -> tuple[datetime, int]:
    """Return (first hour, hours) of a wedding's day: its UTC day, stretched over its window."""
    day = floor_hour(wedding.ceremony_start).replace(hour=0)
    start = min(day, floor_hour(wedding.window_start))
    end = max(day + timedelta(days=1), floor_hour(wedding.window_end - timedelta(microseconds=1)) + HOUR)
    return start, int((end - start) / HOUR)


class ForecastService:
    """Models, forecasts and accuracy for every service (see the module docstring)."""

    def __init__(self, *, db: Database, store, calendar: Callable[[], list[Wedding]], actuator,
                 services: Sequence[ServiceSpec], clock: Clock, secret_key: str, daily_budget: float,
                 wedding_day_multiplier: float = 2.5, history_days: int = HISTORY_DAYS):
        self.db, self.store, self.calendar, self.actuator = db, store, calendar, actuator
        self.services, self.clock, self.secret_key = list(services), clock, secret_key
        self.daily_budget, self.wedding_day_multiplier = daily_budget, wedding_day_multiplier
        self.history_days = history_days
        self._lock = threading.RLock()
        self._versions: dict[str, ModelVersion] = {}
        self._checked_at: datetime | None = None
        self._calendar_key: int | None = None
        self._calendar_frame: pd.DataFrame | None = None
        self._recent: tuple[datetime, dict] | None = None   # (when, pooled accuracy): see is_reliable

    # -- models ------------------------------------------------------------------------------
    def retrain(self) -> list[ModelVersion]:
        """Fit one model per service on its stored history; record and use the new versions.

        Services with under 48 h of history are skipped (they keep their previous version).
        """
        now = self.clock.now()
        frame = self._frame(self.calendar())
        fitted = []
        for spec in self.services:
            history = hourly_history(self.store, spec.name, METRIC, now, self.history_days)
            if history.notna().sum() < MIN_HISTORY_HOURS:
                continue
            # hourly means of a rate: 1 req/s for an hour is 1 in these units
            fitted.append((spec.name, history, LoadForecaster(rps_to_hourly=1.0).fit(history, frame)))
        with self.db.session() as session:
            versions = [record_version(session, self.secret_key, service=name, metric=METRIC, model=model,
                                       trained_at=now, history_start=_aware(history.index[0]),
                                       history_end=_aware(history.index[-1]), n_hours=int(history.notna().sum()))
                        for name, history, model in fitted]
        with self._lock:
            self._versions.update({v.service: v for v in versions})
            self._checked_at = now
        return versions

    def models(self) -> dict[str, ModelVersion]:
        """Return the newest model version of each service (from SQL, checked once a minute).

        With no stored version at all, fits them first (a fresh installation).
        """
        now = self.clock.now()
        with self._lock:
            if self._checked_at is not None and timedelta(0) <= now - self._checked_at < RELOAD:
                return dict(self._versions)
            with self.db.session() as session:
                newest = latest_ids(session, METRIC)
                for service, version_id in newest.items():
                    current = self._versions.get(service)
                    if current is None or current.id != version_id:
                        try:
                            self._versions[service] = load_version(session, self.secret_key, version_id)
                        except TamperedModel:
                            log.error("forecast model %s fails its signature check; not used", version_id)
            self._checked_at = now
            if not newest:
                self.retrain()
            return dict(self._versions)

    def has_loaded_model(self, service: str) -> bool:
        """True when this process already holds a model for ``service`` (never trains one)."""
        with self._lock:
            return service in self._versions

    def _frame(self, weddings: list[Wedding]) -> pd.DataFrame:
        key = hash(tuple(weddings))
        if key != self._calendar_key or self._calendar_frame is None:
            self._calendar_frame, self._calendar_key = calendar_from_weddings(weddings), key
        return self._calendar_frame

    # -- forecasts ---------------------------------------------------------------------------
    def outlook(self, start: datetime, hours: int, *, services: Sequence[str] = (),
                plan_timeline: bool = True) -> Outlook:
        """Return the forecast and capacity plan of ``services`` (default all) over ``hours``.

        Raises Conflict when a service has no model yet (under 48 h of history).
        """
        versions = self.models()
        names = list(services) or [s.name for s in self.services]
        missing = [n for n in names if n not in versions]
        if missing:
            raise Conflict(f"no forecast model yet for {', '.join(missing)}: "
                           f"{MIN_HISTORY_HOURS} h of metric history are needed", {"services": missing})
        now = self.clock.now()
        weddings = self.calendar()
        with self._lock:
            frame = self._frame(weddings)
        current = {n: sum(self.actuator.sizes(n, now)) for n in names}
        inputs = OutlookInputs(start, hours, self.services, weddings, current, self.daily_budget,
                               self.wedding_day_multiplier, plan_timeline)
        return build_outlook({n: (versions[n].id, versions[n].model) for n in names}, frame, inputs)

    def wedding(self, wedding_id: int) -> Wedding:
        """Return the (uncancelled) wedding ``wedding_id``; raise NotFound."""
        for w in self.calendar():
            if w.id == wedding_id:
                return w
        raise NotFound(f"no upcoming or past wedding with id {wedding_id}")

    def wedding_outlook(self, wedding_id: int, services: Sequence[str] = ()) -> tuple[Wedding, Outlook]:
        """Return the wedding and the outlook of its day (see :func:`wedding_day_range`)."""
        wedding = self.wedding(wedding_id)
        start, hours = wedding_day_range(wedding)
        return wedding, self.outlook(start, hours, services=services)

    def season(self, weeks: int = WEEKS) -> list[SeasonWeek]:
        """Return the season view: ``weeks`` weeks from the Monday of this week."""
        first = season_start(self.clock.now().astimezone(timezone.utc).date())
        start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
        return season_view(self.outlook(start, 24 * 7 * weeks, plan_timeline=False))

    # -- stored forecasts --------------------------------------------------------------------
    def predict(self, request: PredictionRequest, actor_name: str, kind: str | None = None) -> dict:
        """Make the forecast ``request`` asks for, store it, and return its stored JSON."""
        now = self.clock.now()
        if request.wedding_id is not None:
            _, outlook = self.wedding_outlook(request.wedding_id, request.services)
        else:
            outlook = self.outlook(request.start or now, request.horizon_hours, services=request.services)
        body = outlook_json(outlook, include_weddings=request.include_weddings,
                            include_costs=request.include_costs)
        row = ForecastRow(created_at=now, kind=kind or ("wedding" if request.wedding_id else "horizon"),
                          actor=actor_name, wedding_id=request.wedding_id, start_at=outlook.hours[0],
                          end_at=outlook.hours[-1] + HOUR,
                          model_versions=json.dumps({n: f.model_version for n, f in outlook.services.items()}),
                          request=json.dumps(request.as_dict()), payload=json.dumps(body))
        with self.db.session() as session:
            session.add(row)
            session.flush()
            return _stored_json(row)

    def get(self, forecast_id: int) -> dict:
        """Return the stored forecast ``forecast_id``; raise NotFound."""
        with self.db.session() as session:
            row = session.get(ForecastRow, forecast_id)
            if row is None:
                raise NotFound(f"no forecast with id {forecast_id}")
            return _stored_json(row)

    def track(self) -> int:
        """Store the next 24 h forecast (hourly job) and score the due ones; return how many scored."""
        try:
            self.predict(PredictionRequest(horizon_hours=24), "forecaster", kind="scheduled")
        except Conflict:
            pass  # no model yet: nothing to forecast, but older forecasts may still be scored
        return self.evaluate_due()

    def evaluate_due(self, limit: int = 200) -> int:
        """Score the stored forecasts whose every hour has passed; return how many."""
        now = floor_hour(self.clock.now())
        with self.db.session() as session:
            rows = session.execute(select(ForecastRow).where(ForecastRow.evaluated_at.is_(None),
                                                             ForecastRow.end_at <= now)
                                   .order_by(ForecastRow.id).limit(limit)).scalars().all()
            for row in rows:
                payload = json.loads(row.payload)
                hours = [datetime.fromisoformat(h) for h in payload["hours"]]
                actuals = {s: self._actuals(s, hours) for s in payload["services"]}
                scored = acc.accuracy_of(payload, actuals)
                row.accuracy = json.dumps({s: a.as_dict() for s, a in scored.items()})
                row.evaluated_at = self.clock.now()
        self._recent = None
        return len(rows)

    def _actuals(self, service: str, hours: list[datetime]) -> np.ndarray:
        ts, values = self.store.series(service, METRIC, to_epoch_s(hours[0]), to_epoch_s(hours[-1]),
                                       resolution="1h")
        by_hour = {int(t // 3600): v for t, v in zip(ts, values)}
        return np.array([by_hour.get(int(to_epoch_s(h) // 3600), np.nan) for h in hours], float)

    def accuracy(self, days: int = acc.RECENT_DAYS) -> dict[str, acc.Accuracy | None]:
        """Return per service the pooled accuracy of forecasts that ended in the last ``days``."""
        since = self.clock.now() - timedelta(days=days)
        pooled: dict[str, list[acc.Accuracy]] = {s.name: [] for s in self.services}
        with self.db.session() as session:
            for text in session.execute(select(ForecastRow.accuracy).where(
                    ForecastRow.evaluated_at.is_not(None), ForecastRow.end_at >= since)).scalars():
                for service, a in json.loads(text or "{}").items():
                    pooled.setdefault(service, []).append(acc.Accuracy(a["mape"], a["coverage"], a["n"]))
        return {s: acc.pool(results) for s, results in pooled.items()}

    def is_reliable(self, service: str) -> bool:
        """False when ``service`` has no model or its recent accuracy is poor (see accuracy)."""
        try:
            if service not in self.models():
                return False
        except Exception:  # the scaling policy asks this every cycle: never let it fail
            log.exception("forecast models unavailable")
            return False
        # the scaling policy asks every cycle: pool the record at most once a minute
        now = self.clock.now()
        if self._recent is None or not timedelta(0) <= now - self._recent[0] < RELOAD:
            self._recent = (now, self.accuracy())
        return acc.is_reliable(self._recent[1].get(service))

    def past_forecast(self, start: datetime, hours: int) -> dict:
        """Return the stored forecast made before ``start`` that covers it, with the actuals.

        ``{"hours", "forecastId", "services": {name: {"p10","p50","p90","actual"}}}``; the
        bands are NaN where the stored forecast does not reach and ``forecastId`` is None when
        no forecast was made ahead of that time.
        """
        hour_list = [floor_hour(start) + i * HOUR for i in range(hours)]
        end = hour_list[-1] + HOUR
        with self.db.session() as session:
            row = session.execute(select(ForecastRow).where(
                ForecastRow.created_at <= hour_list[0] + HOUR, ForecastRow.start_at < end,
                ForecastRow.end_at > hour_list[0]).order_by(ForecastRow.created_at.desc()).limit(1)).scalar()
            payload = json.loads(row.payload) if row is not None else {"hours": [], "services": {}}
            forecast_id = row.id if row is not None else None
        position = {datetime.fromisoformat(h): i for i, h in enumerate(payload["hours"])}
        out = {}
        for spec in self.services:
            bands = payload["services"].get(spec.name)
            picked = {k: np.array([bands[k][position[h]] if bands and h in position else np.nan
                                   for h in hour_list], float) for k in ("p10", "p50", "p90")}
            out[spec.name] = {**picked, "actual": self._actuals(spec.name, hour_list)}
        return {"hours": hour_list, "forecastId": forecast_id, "services": out}


def _aware(stamp: pd.Timestamp) -> datetime:
    return stamp.to_pydatetime().replace(tzinfo=timezone.utc)


def _stored_json(row: ForecastRow) -> dict:
    return {"id": row.id, "createdAt": row.created_at.isoformat(), "kind": row.kind,
            "weddingId": row.wedding_id, "start": row.start_at.isoformat(), "end": row.end_at.isoformat(),
            "modelVersions": json.loads(row.model_versions), "request": json.loads(row.request),
            **json.loads(row.payload),
            "accuracy": json.loads(row.accuracy) if row.accuracy else None}
