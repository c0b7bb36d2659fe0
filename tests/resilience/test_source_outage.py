"""A metric source outage: the page says the data is stale, an alert fires, and nothing is
scaled from stale data; all of it recovers by itself when samples arrive again."""

from __future__ import annotations

import json

from engine.clock import to_epoch_s
from engine.health import check_health
from engine.scaling.autoscaler import STALE_S
from engine.security.permissions import Role
from engine.storage.models import AlertRow, DecisionRow
from tests.integration.test_access import _forged_body
from tests.resilience.outage import JobLoop


def live_status(app, client) -> str:
    key = next(k for k in app.callback_map if "live-graph.figure" in k)
    body = _forged_body(key, app.callback_map[key])
    body["inputs"][0]["value"] = "api"
    body["inputs"][1]["value"] = "15m"
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return json.dumps(response.get_json()["response"]["live-status"], ensure_ascii=False)


def source_alert(engine):
    with engine.db.session() as session:
        return session.query(AlertRow).filter_by(service="sources", metric="data_age_s").one_or_none()


def test_source_outage_is_visible_alerted_and_never_scaled_on(app, login_as, engine, clock):
    viewer = login_as(Role.SCALABILITY_VIEWER)
    loop = JobLoop(engine, clock)
    engine.actuator.preset({"api": 2})       # overloaded: fresh data would make the autoscaler act
    loop.run(10)                             # two collections, no autoscale tick yet
    assert "stale" not in live_status(app, viewer)
    engine.source.stop()
    orders_before = len(engine.actuator.orders)
    loop.run(120)

    assert engine.data_age_s() >= 120
    assert "Data is stale since" in live_status(app, viewer)
    alert = source_alert(engine)
    assert (alert.severity, alert.state) == ("critical", "firing")
    assert {c.name: c.status for c in check_health(engine, loop.runner).components}["source"] == "degraded"
    # Orders after the outage began came only while the newest sample was at most 30 s old.
    last_sample = engine.store.last_ingest_ts()
    late = [o for o in engine.actuator.orders[orders_before:] if to_epoch_s(o.at) - last_sample > STALE_S]
    assert late == [], "scaled from stale data"
    stale_orders = len(engine.actuator.orders)
    with engine.db.session() as session:
        assert all(to_epoch_s(d.created_at) - last_sample <= STALE_S for d in session.query(DecisionRow))

    engine.source.resume()
    loop.run(15)
    assert source_alert(engine).state == "resolved"
    assert len(engine.actuator.orders) > stale_orders  # fresh data: the load is answered again
    assert "stale" not in live_status(app, viewer)
