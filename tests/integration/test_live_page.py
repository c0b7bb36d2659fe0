"""The live page's server callbacks through the Flask test client, as the browser calls them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.live_series import LIVE_TRACES
from engine.metrics.window import grid_limit
from engine.security.permissions import Role
from tests.integration.test_alerts import raise_latency_alert


def _key(app, first_output: str) -> str:
    return next(k for k in app.callback_map if k.strip(".").split("...")[0].split("@")[0] == first_output)


def call(client, app, first_output: str, inputs: dict, state: dict | None = None):
    """POST /_dash-update-component for the callback whose first output is ``first_output``."""
    key = _key(app, first_output)
    callback = app.callback_map[key]
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
               for o in key.strip(".").split("...")]
    values = {**inputs, **(state or {})}
    body = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in callback["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in callback["state"]],
            "changedPropIds": list(inputs)}
    return client.post("/_dash-update-component", json=body)


def draw(client, app, service="api", range_key="15m", theme=None):
    response = call(client, app, "live-graph.figure", {"live-service.value": service, "live-range.value": range_key,
                                                        "theme-store.data": theme, "live-marks.data": None})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]


def tick(client, app, cursor, n=1):
    response = call(client, app, "live-graph.extendData", {"live-pulse.data": n},
                    {"live-cursor.data": cursor, "live-service.value": cursor["service"],
                     "live-range.value": cursor["range"]})
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
    return response.get_json()["response"] if response.status_code == 200 else {}


def collect(engine, clock, steps=1):
    for _ in range(steps):
        clock.advance(seconds=5)
        engine.collect_metrics()


def test_tick_appends_exactly_the_new_points(login_as, app, engine, clock):
    collect(engine, clock, 3)
    client = login_as(Role.SCALABILITY_VIEWER)
    drawn = draw(client, app)
    figure, cursor = drawn["live-graph"]["figure"], drawn["live-cursor"]["data"]
    assert len(figure["data"][0]["x"]) == 3 and cursor["resolution"] == "raw"
    collect(engine, clock, 2)
    out = tick(client, app, cursor)
    update, indices, max_points = out["live-graph"]["extendData"]
    ts, cpu = engine.store.series("api", "cpu_pct", 0)
    assert indices[0] == 0 and update["x"][0] == [int(t * 1000) for t in ts[-2:]]
    assert update["y"][0] == pytest.approx(list(cpu[-2:]), rel=5e-4)  # sent with 4 significant digits
    assert max_points >= 180 and out["live-applied"]["children"] == "1"
    again = tick(client, app, out["live-cursor"]["data"])
    assert "extendData" not in again.get("live-graph", {})  # nothing new: nothing sent


def _hour_of_5s_points(engine, clock):
    now = clock.now()
    engine.store.ingest(engine.source.backfill(now - timedelta(hours=1), now, step_s=5))


def test_seven_days_are_drawn_in_ten_minute_buckets_with_a_band(login_as, app, engine, clock):
    _hour_of_5s_points(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    drawn = draw(client, app, range_key="7d")
    figure = drawn["live-graph"]["figure"]
    assert figure["layout"]["meta"]["resolution"] == "10m"
    assert drawn["live-resolution"]["children"] == "10 min buckets of 1 min rollups · min–max band"
    band = next(t for t in figure["data"] if t["name"] == "cpu_pct max")
    mean = next(t for t in figure["data"] if t["name"] == "cpu_pct")
    assert len(band["y"]) == 6 and "x" not in band and band["dx"] == 600_000  # 13:00 … 13:50, on one grid
    # The band's top is the highest 1 min maximum of each bucket: a spike is not averaged away.
    minutes = engine.store.rollup("api", "cpu_pct", "1m", 0)
    start = (clock.now() - timedelta(hours=1)).timestamp()
    for k, top in enumerate(band["y"]):
        inside = (minutes["ts"] >= start + 600 * k) & (minutes["ts"] < start + 600 * (k + 1))
        assert top == pytest.approx(minutes["max"][inside].max(), rel=5e-4)
        assert mean["y"][k] == pytest.approx(minutes["mean"][inside].mean(), rel=5e-4)
    assert drawn["live-cursor"]["data"]["first"] == start


def test_seven_day_ticks_add_a_bucket_when_it_closes(login_as, app, engine, clock):
    _hour_of_5s_points(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    cursor = draw(client, app, range_key="7d")["live-cursor"]["data"]
    collect(engine, clock, 60)  # five minutes: the 14:00 bucket is still open
    out = tick(client, app, cursor)
    assert "extendData" not in out.get("live-graph", {})
    collect(engine, clock, 60)
    update, indices = tick(client, app, out["live-cursor"]["data"])["live-graph"]["extendData"]
    assert set(update) == {"y"} and all(len(y) == 1 for y in update["y"]) and len(indices) == 20


def test_a_grown_seven_day_chart_asks_for_a_redraw_once(login_as, app, engine, clock):
    _hour_of_5s_points(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    cursor = draw(client, app, range_key="7d")["live-cursor"]["data"]
    collect(engine, clock, 120)
    # As if the page had been open for days: its traces have as many points as a trace may hold.
    grown = {**cursor, "first": cursor["ts"] - 600 * (grid_limit("7d") - 1)}
    out = tick(client, app, grown)
    assert "extendData" not in out.get("live-graph", {}) and out["live-marks"]["data"].startswith("redraw-")
    again = tick(client, app, out["live-cursor"]["data"], n=2)
    assert "live-marks" not in again and "extendData" not in again.get("live-graph", {})
    redrawn = draw(client, app, range_key="7d")["live-cursor"]["data"]
    assert "redraw" not in redrawn and redrawn["first"] == cursor["first"]


def test_csv_of_seven_days_has_every_stored_minute(login_as, app, engine, clock):
    _hour_of_5s_points(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    response = call(client, app, "live-download.data", {"live-csv.n_clicks": 1},
                    {"live-service.value": "api", "live-range.value": "7d"})
    lines = response.get_json()["response"]["live-download"]["data"]["content"].strip().split("\n")
    cpu = [line for line in lines[1:] if ",cpu_pct," in line]
    assert len(cpu) == 60 and all(",1m," in line for line in cpu)


def test_stopped_source_shows_stale_since(login_as, app, engine, clock):
    collect(engine, clock, 2)
    client = login_as(Role.SCALABILITY_VIEWER)
    cursor = draw(client, app)["live-cursor"]["data"]
    engine.source.stop()
    collect(engine, clock, 24)  # two minutes without samples
    status = json.dumps(tick(client, app, cursor)["live-status"])
    assert "live-stale" in status and "Data is stale since 14:00 UTC" in status


def test_empty_store_shows_the_empty_state(login_as, app):
    client = login_as(Role.SCALABILITY_VIEWER)
    assert "live-empty" in json.dumps(draw(client, app)["live-status"])


def test_new_alert_changes_the_marks_and_the_redraw_shows_it(login_as, app, engine, clock):
    collect(engine, clock, 2)
    client = login_as(Role.SCALABILITY_VIEWER)
    cursor = draw(client, app)["live-cursor"]["data"]
    raise_latency_alert(engine, clock)
    out = tick(client, app, cursor)
    assert out["live-marks"]["data"] != cursor["marks"]
    redrawn = draw(client, app)["live-graph"]["figure"]
    assert any("critical" in (a.get("text") or "") and "firing" in a["text"]
               for a in redrawn["layout"]["annotations"])


def test_csv_download_has_the_chosen_range(login_as, app, engine, clock):
    collect(engine, clock, 3)
    client = login_as(Role.SCALABILITY_VIEWER)
    response = call(client, app, "live-download.data", {"live-csv.n_clicks": 1},
                    {"live-service.value": "database", "live-range.value": "15m"})
    data = response.get_json()["response"]["live-download"]["data"]
    lines = data["content"].strip().split("\n")
    assert data["filename"].startswith("wedscale-database-15m-") and data["type"] == "text/csv"
    assert len(lines) == 1 + 3 * len(LIVE_TRACES) and all(",database," in line for line in lines[1:])


def test_csv_download_needs_a_session(client, app):
    response = call(client, app, "live-download.data", {"live-csv.n_clicks": 1},
                    {"live-service.value": "api", "live-range.value": "15m"})
    assert response.status_code == 401


def test_overview_colours_a_service_with_a_firing_alert(login_as, app, engine, clock):
    raise_latency_alert(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    response = call(client, app, "overview-grid.children", {"overview-tick.n_intervals": 1, "theme-store.data": None})
    grid = json.dumps(response.get_json()["response"]["overview-grid"]["children"])
    assert '"critical"' in grid and "overview-status-api" in grid
