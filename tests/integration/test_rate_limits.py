"""Rate limits: the defaults, per principal and per route class, 429 with Retry-After."""

from __future__ import annotations

from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user


def _token(engine, name, role):
    create_user(engine, name, role)
    with engine.db.session() as session:
        _row, token = engine.tokens.create(session, session.query(User).filter_by(username=name).one(),
                                           [], None, TEST_ACTOR)
    return {"Authorization": f"Bearer {token}"}


def test_default_limits_per_class_and_per_token(app, engine):
    client = app.server.test_client()
    alice, bob = _token(engine, "alice", Role.SCALABILITY_OPERATOR), _token(engine, "bob", Role.SCALABILITY_OPERATOR)
    statuses = [client.get("/api/scalability/status", headers=alice).status_code for _ in range(101)]
    assert statuses[:100] == [200] * 100 and statuses[100] == 429
    limited = client.get("/api/scalability/alerts", headers=alice)  # same class: shared counter
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert set(limited.get_json()) == {"error", "message", "details"}
    assert client.get("/api/scalability/status", headers=bob).status_code == 200  # own counter
    body = {"action": "scale_up", "services": ["nope"], "reason": "x"}
    actions = [client.post("/api/scalability/actions/scale", json=body, headers=bob).status_code
               for _ in range(11)]
    assert actions[:10] == [422] * 10 and actions[10] == 429


def test_health_is_limited_per_address(client):
    statuses = [client.get("/readyz").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_every_api_endpoint_has_a_class(app):
    from app.limits import ROUTE_CLASSES

    api = {e for e in app.server.view_functions if e.startswith("api.")}
    assert api <= set(ROUTE_CLASSES)


def _app_from_environment(tmp_path, db_url, clock, **variables):
    """The app as ``wedscale serve`` builds it: settings from the environment (and its file)."""
    from app import create_app
    from engine.bootstrap import build_engine
    from engine.settings import load_settings
    from tests.conftest import TEST_SECRET

    env = {"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_DATABASE_URL": db_url,
           "WEDSCALE_SECRET_KEY": TEST_SECRET, **variables}
    settings = load_settings(env=env).with_(run_scheduler=False, backfill_days=0)
    return create_app(engine=build_engine(settings, clock=clock))


def _health_statuses(app, n):
    client = app.server.test_client()
    return [client.get("/readyz").status_code for _ in range(n)]


def test_the_config_file_sets_a_limit_and_the_environment_overrides_it(tmp_path, db_url, clock):
    config = tmp_path / "wedscale.toml"
    config.write_text('[rate_limits]\nhealth = "3/minute"\n')
    from_file = _app_from_environment(tmp_path, db_url, clock, WEDSCALE_CONFIG=str(config))
    assert _health_statuses(from_file, 4) == [200, 200, 200, 429]
    overridden = _app_from_environment(tmp_path, db_url, clock, WEDSCALE_CONFIG=str(config),
                                       WEDSCALE_RATE_LIMITS="health=5/minute")
    assert _health_statuses(overridden, 6) == [200] * 5 + [429]
