"""The forecast service end to end: versioned models, wedding-day and horizon forecasts, the
predictions API, stored forecasts scored against actuals, reliability, pre-scale requests."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import numpy as np
import pytest

from engine.clock import to_epoch_s
from engine.forecast.requests import PredictionRequest
from engine.security.permissions import Role
from engine.sources.base import SampleBatch
from engine.storage.models import AuditEntry, DecisionRow, ForecastModelRow
from seeds.demo import seed_demo
from tests.conftest import T0, make_settings

HISTORY_DAYS = 21


def prepare_forecasts(engine) -> None:
    """Seed the demo calendar, backfill three weeks of simulated metrics, fit the models."""
    seed_demo(engine, with_users=False)
    engine.store.ingest(engine.source.backfill(T0 - timedelta(days=HISTORY_DAYS), T0, step_s=300))
    engine.retrain_forecasts()


@pytest.fixture(scope="module")
def forecast_template(tmp_path_factory, migrated_template) -> str:
    """A database with the demo calendar and fitted models, built once for this module."""
    from engine.bootstrap import build_engine
    from engine.clock import ManualClock

    folder = tmp_path_factory.mktemp("forecast_template")
    path = folder / "forecast.db"
    shutil.copy(migrated_template, path)
    built = build_engine(make_settings(folder, f"sqlite:///{path}"), clock=ManualClock(T0))
    prepare_forecasts(built)
    built.db.dispose()
    return str(path)


@pytest.fixture
def db_url(request, tmp_path, migrated_template):
    """This module's tests start from the fitted template; ``engine`` alone gets an empty one."""
    needs_models = "ready" in request.fixturenames
    path = tmp_path / "wedscale.db"
    shutil.copy(request.getfixturevalue("forecast_template") if needs_models else migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def ready(engine):
    """An engine whose database holds the demo calendar and one model version per service."""
    return engine


def _next_wedding(engine):
    return next(w for w in engine.calendar.all() if w.ceremony_start > engine.clock.now())


def test_retrain_records_one_version_per_service_and_workers_load_it(ready, settings, clock):
    from engine.bootstrap import build_engine

    with ready.db.session() as session:
        rows = session.query(ForecastModelRow).all()
        assert sorted(r.service for r in rows) == sorted(ready.service_names())
        assert all(r.metric == "request_rate" and r.n_hours >= 24 * (HISTORY_DAYS - 1) for r in rows)
    other = build_engine(settings, clock=clock)      # another worker: same database, empty store
    versions = other.forecasts.models()
    assert {s: v.id for s, v in versions.items()} == {r.service: r.id for r in rows}
    other.db.dispose()


def test_a_tampered_model_is_not_loaded(ready, settings, clock):
    from engine.bootstrap import build_engine

    with ready.db.session() as session:
        row = session.query(ForecastModelRow).filter_by(service="api").one()
        row.blob = row.blob + b"\x00"
    other = build_engine(settings, clock=clock)
    assert "api" not in other.forecasts.models() and "database" in other.forecasts.models()
    assert other.forecast_is_reliable("api") is False
    other.db.dispose()


def test_wedding_day_forecast_shape_and_plan(ready):
    wedding = _next_wedding(ready)
    got, outlook = ready.forecasts.wedding_outlook(wedding.id)
    assert got == wedding and outlook.hours[0] <= wedding.window_start and outlook.hours[-1] >= wedding.reception_end
    assert wedding in outlook.weddings
    for name, f in outlook.services.items():
        assert len(f.p50) == len(outlook.hours)
        assert (f.p10 <= f.p50).all() and (f.p50 <= f.p90).all()
        spec = next(s for s in ready.services if s.name == name)
        assert (spec.min_instances <= f.recommended).all() and (f.recommended <= spec.max_instances).all()
        # the ceremony hour is busier than 04:00 UTC: the calendar reached the forecast
        ceremony = outlook.hours.index(wedding.ceremony_start.replace(minute=0))
        assert f.p50[ceremony] > 2 * f.p50[4]
    steps = [s for s in outlook.timeline if s.wedding_id == wedding.id]
    assert steps and all(s.ready_by < s.phase_start for s in steps)
    assert outlook.days[0].wedding_day and outlook.days[0].budget == 2.5 * ready.settings.planning_budget


def test_the_same_inputs_give_the_same_forecast(ready):
    wedding = _next_wedding(ready)
    first = ready.forecasts.wedding_outlook(wedding.id)[1]
    second = ready.forecasts.wedding_outlook(wedding.id)[1]
    for name in first.services:
        assert first.services[name].p50.tobytes() == second.services[name].p50.tobytes()


def test_season_has_twelve_weeks_of_days_with_saturday_peaks(ready):
    weeks = ready.forecasts.season()
    assert len(weeks) == 12 and all(len(w.days) == 7 for w in weeks)
    assert weeks[0].start.weekday() == 0
    saturdays = sum(1 for w in weeks if w.peak_day.day.weekday() == 5)
    assert saturdays >= 9          # the demo calendar books most weddings on Saturdays


def test_predictions_api_stores_and_reads_back(ready, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    wedding = _next_wedding(ready)
    made = client.post("/api/scalability/predictions", json={"weddingId": wedding.id, "services": ["api"]})
    assert made.status_code == 201
    body = made.get_json()
    assert list(body["services"]) == ["api"] and body["kind"] == "wedding"
    api = body["services"]["api"]
    assert len(api["p10"]) == len(api["p50"]) == len(api["p90"]) == len(body["hours"])
    assert {p["phase"] for p in body["phases"]} == {"preparation", "ceremony", "reception", "wind-down"}
    assert body["costs"]["days"][0]["weddingDay"] is True and body["prescaleTimeline"]
    assert any(w["id"] == wedding.id for w in body["weddings"])
    again = client.get(f"/api/scalability/predictions/{body['id']}")
    assert again.status_code == 200 and again.get_json() == body
    horizon = client.post("/api/scalability/predictions",
                          json={"timeHorizonHours": 6, "includeWeddingContext": False, "includeCostEstimates": False})
    assert horizon.status_code == 201
    short = horizon.get_json()
    assert len(short["hours"]) == 6 and "weddings" not in short and "costs" not in short
    assert set(short["modelVersions"]) == set(ready.service_names())


@pytest.mark.parametrize("body, field", [
    ({"timeHorizonHours": 0}, "timeHorizonHours"),
    ({"timeHorizonHours": "a day"}, "timeHorizonHours"),
    ({"services": ["api", "mainframe"]}, "services"),
    ({"includeCostEstimates": "no"}, "includeCostEstimates"),
    ({"weddingId": "seven"}, "weddingId"),
    ({"colour": "blue"}, "colour"),
])
def test_predictions_api_names_the_bad_field(ready, login_as, body, field):
    response = login_as(Role.WEDDING_COORDINATOR).post("/api/scalability/predictions", json=body)
    assert response.status_code == 422
    answer = response.get_json()
    assert set(answer) == {"error", "message", "details"} and answer["details"]["field"] == field


def test_predictions_api_errors_are_json(ready, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    assert client.get("/api/scalability/predictions/4242").get_json()["error"] == "not_found"
    missing = client.post("/api/scalability/predictions", json={"weddingId": 4242})
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.post("/api/scalability/predictions", data="[", content_type="application/json").status_code == 422


def test_without_history_the_api_says_so(engine, login_as):
    response = login_as(Role.WEDDING_COORDINATOR).post("/api/scalability/predictions", json={})
    assert response.status_code == 409 and "history" in response.get_json()["message"]


def _ingest_request_rate(engine, start, hours: int, value_of) -> None:
    ts = np.arange(to_epoch_s(start), to_epoch_s(start) + hours * 3600, 300.0)
    services = [s for s in engine.service_names() for _ in ts]
    engine.store.ingest(SampleBatch(service=services, metric=["request_rate"] * len(services),
                                    ts=np.tile(ts, len(engine.service_names())),
                                    value=np.concatenate([value_of(s, ts) for s in engine.service_names()])))


def test_stored_forecasts_are_scored_when_the_actuals_arrive(ready, clock):
    made = ready.forecasts.predict(PredictionRequest(horizon_hours=6), "pytest")
    assert ready.forecasts.evaluate_due() == 0                       # its hours have not passed
    p50 = {n: np.array(s["p50"]) for n, s in made["services"].items()}
    # what happened: exactly twice the forecast p50 in every hour
    _ingest_request_rate(ready, T0, 6, lambda s, ts: 2 * np.repeat(p50[s], 12))
    clock.advance(hours=7)
    assert ready.forecasts.evaluate_due() == 1
    scored = ready.forecasts.get(made["id"])["accuracy"]
    assert scored["api"]["mape"] == pytest.approx(0.5, abs=1e-3) and scored["api"]["n"] == 6
    assert ready.forecasts.accuracy()["api"].n_points == 6


def test_poor_recent_accuracy_makes_the_forecast_unreliable(ready, clock):
    assert ready.forecast_is_reliable("api") is True                 # fresh model: trusted
    made = ready.forecasts.predict(PredictionRequest(horizon_hours=30), "pytest")
    p50 = {n: np.array(s["p50"]) for n, s in made["services"].items()}
    _ingest_request_rate(ready, T0, 30, lambda s, ts: (3 if s == "api" else 1) * np.repeat(p50[s], 12))
    clock.advance(hours=31)
    ready.forecasts.evaluate_due()
    assert ready.forecast_is_reliable("api") is False                # 200 % off for 30 hours
    assert ready.forecast_is_reliable("database") is True


def test_track_job_stores_the_next_day(ready):
    assert ready.track_forecasts() == 0
    with ready.db.session() as session:
        row = session.execute(__import__("sqlalchemy").select(
            __import__("engine.storage.models", fromlist=["ForecastRow"]).ForecastRow)).scalar_one()
        assert row.kind == "scheduled" and json.loads(row.request)["timeHorizonHours"] == 24


def test_coordinator_requests_a_prescale_operator_approves(ready, login_as):
    wedding = _next_wedding(ready)
    client = login_as(Role.WEDDING_COORDINATOR)
    response = client.post(f"/api/scalability/weddings/{wedding.id}/prescale", json={"note": "big family"})
    assert response.status_code == 201
    decisions = response.get_json()["decisions"]
    assert decisions and all(d["status"] == "pending_approval" and d["trigger"] == "prescale" for d in decisions)
    assert all(d["to"] > d["from"] and d["inputs"]["wedding_id"] == wedding.id for d in decisions)
    with ready.db.session() as session:
        assert session.query(AuditEntry).filter_by(action="wedding.prescale_request").count() == 1
        pending = session.query(DecisionRow).filter_by(status="pending_approval").count()
    assert pending == len(decisions)
    assert client.post("/api/scalability/weddings/9999/prescale", json={}).status_code == 404


def test_viewer_cannot_request_a_prescale_or_forecast(ready, login_as):
    client = login_as(Role.SCALABILITY_VIEWER)
    wedding = _next_wedding(ready)
    assert client.post(f"/api/scalability/weddings/{wedding.id}/prescale", json={}).status_code == 403
    assert client.post("/api/scalability/predictions", json={}).status_code == 403


def test_the_autoscaler_reads_the_forecast_for_the_time_an_order_is_ready(ready, clock):
    ready.forecasts.models()                                # this process has loaded the models
    at = clock.now() + timedelta(minutes=3)
    forecast = ready.autoscaler.forecast_for("api", at)
    assert forecast is not None and forecast.at == at
    hour = at.replace(minute=0, second=0, microsecond=0)
    expected = ready.forecasts.outlook(hour, 1, services=["api"], plan_timeline=False).services["api"]
    assert (forecast.p50_rps, forecast.p90_rps) == (float(expected.p50[0]), float(expected.p90[0]))
    assert 0 < forecast.p50_rps <= forecast.p90_rps


def test_without_a_trusted_model_the_autoscaler_scales_reactively(ready, clock):
    from engine.scaling.forecast_feed import ForecastFeed

    assert ready.autoscaler.forecast_for("api", clock.now()) is None   # nothing loaded: no training here
    ready.forecasts.models()
    ready.forecasts.is_reliable = lambda service: service != "api"      # api's recent accuracy is poor
    feed = ForecastFeed(ready.forecasts)
    assert feed("api", clock.now()) is None
    assert feed("database", clock.now()) is not None
