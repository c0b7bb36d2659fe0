"""Metric push over HTTP with a scoped token: stored all or nothing, errors name the sample."""

from __future__ import annotations

import pytest

from engine.clock import to_epoch_s
from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user


@pytest.fixture
def push_client(app, engine):
    create_user(engine, "pusher", Role.SCALABILITY_OPERATOR)
    with engine.db.session() as session:
        _row, token = engine.tokens.create(session, session.query(User).filter_by(username="pusher").one(),
                                           ["metrics:push"], None, TEST_ACTOR)
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_json_batch_is_stored(push_client, engine):
    now = to_epoch_s(engine.clock.now())
    samples = [{"service": "api", "metric": "queue_depth", "ts": now - 10 + i, "value": 1000.0 + i}
               for i in range(5)]
    response = push_client.post("/api/scalability/metrics", json={"samples": samples})
    assert response.status_code == 202 and response.get_json()["accepted"] == 5
    _ts, values = engine.store.series("api", "queue_depth", now - 11, resolution="raw")
    assert max(values) >= 1000.0


def test_prometheus_text_is_stored(push_client, engine):
    now_ms = int(to_epoch_s(engine.clock.now()) * 1000)
    body = f'# TYPE cpu_pct gauge\ncpu_pct{{service="database"}} 77.5 {now_ms - 5000}\n'
    response = push_client.post("/api/scalability/metrics", data=body,
                                content_type="text/plain; version=0.0.4")
    assert response.status_code == 202
    _ts, values = engine.store.series("database", "cpu_pct", now_ms / 1000 - 6, resolution="raw")
    assert 77.5 in list(values)


def test_one_bad_sample_rejects_the_batch_and_is_named(push_client, engine):
    now = to_epoch_s(engine.clock.now())
    good = {"service": "api", "metric": "queue_depth", "ts": now - 5, "value": 4242.0}
    bad = {"service": "ghost", "metric": "cpu_pct", "ts": now - 5, "value": 1.0}
    response = push_client.post("/api/scalability/metrics", json=[good, bad])
    assert response.status_code == 422
    assert "sample 1" in response.get_json()["message"]
    _ts, values = engine.store.series("api", "queue_depth", now - 6, resolution="raw")
    assert 4242.0 not in list(values)


def test_oversized_batch_is_413(push_client, engine):
    now = to_epoch_s(engine.clock.now())
    samples = [{"service": "api", "metric": "cpu_pct", "ts": now - 1, "value": 1.0}] * 10_001
    assert push_client.post("/api/scalability/metrics", json=samples).status_code == 413


def test_wrong_media_type_and_broken_json(push_client):
    assert push_client.post("/api/scalability/metrics", data="x", content_type="application/xml").status_code == 415
    assert push_client.post("/api/scalability/metrics", data="{not json",
                            content_type="application/json").status_code == 422


def test_a_read_only_token_cannot_push(app, engine):
    create_user(engine, "reader", Role.SCALABILITY_OPERATOR)
    with engine.db.session() as session:
        _row, token = engine.tokens.create(session, session.query(User).filter_by(username="reader").one(),
                                           ["metrics:read"], None, TEST_ACTOR)
    response = app.server.test_client().post("/api/scalability/metrics", json=[],
                                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
