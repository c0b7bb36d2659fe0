"""Schemathesis against ``/api/openapi.json``, through the real Flask app's WSGI interface.

An admin's real bearer token, rate limits raised, ``MAX_EXAMPLES`` derandomized examples per
operation and generation mode (reproducible; about 15 s of CPU, under a minute on a busy
2-core machine). Every answer must be below 500,
carry a documented status and content type, and match its declared schema; malformed input
must be refused with a documented 4xx.

Nothing is excluded: every operation is safe to fuzz in a test database against the
simulated cluster (scaling orders, break-glass takes and revokes, wedding edits included).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import response_content_type
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user, make_settings

UNLIMITED = {"monitoring": "100000/minute", "actions": "100000/minute", "push": "100000/minute"}
MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def fuzz_app(tmp_path, db_url, clock):
    from app import create_app
    from engine.bootstrap import build_engine

    engine = build_engine(make_settings(tmp_path, db_url, rate_limits=UNLIMITED), clock=clock)
    engine.size_simulated_cluster()
    create_user(engine, "fuzz-admin", Role.SCALABILITY_ADMIN)
    with engine.db.session() as session:
        admin = session.query(User).filter_by(username="fuzz-admin").one()
        _row, token = engine.tokens.create(session, admin, [], None, TEST_ACTOR)
    yield create_app(engine=engine), {"Authorization": f"Bearer {token}"}
    engine.db.dispose()


def _operator_token(engine) -> dict:
    create_user(engine, "fuzz-operator", Role.SCALABILITY_OPERATOR)
    with engine.db.session() as session:
        user = session.query(User).filter_by(username="fuzz-operator").one()
        _row, token = engine.tokens.create(session, user, [], None, TEST_ACTOR)
    return {"Authorization": f"Bearer {token}"}


def _fuzz(operation, mode, auth) -> None:
    """Run ``MAX_EXAMPLES`` derandomized cases of one operation in one generation mode."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        case.call_and_validate(headers=auth, checks=CHECKS)

    run()


def test_api_conforms_to_its_openapi_document(fuzz_app):
    # schemathesis.pytest.from_fixture (its lazy loader) does not run on pytest 9, so the
    # operations are walked here; every failing operation is reported, not only the first.
    app, auth = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.server, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{m.upper()} {p}" for p, item in schema.raw_schema["paths"].items() for m in item}
    # schemathesis leaves out the operation serving the document it was loaded from.
    assert documented - {op.label for op in operations} == {"GET /api/openapi.json"}
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, auth)
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported below
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)


def test_successful_answers_match_their_schemas(fuzz_app):
    """Random input rarely gets past validation, so walk every operation once with valid input:
    each answer must be 2xx and conform (same checks as above)."""
    app, admin = fuzz_app
    engine = app.server.extensions["wedscale"]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.server, headers=admin)
    operator = _operator_token(engine)
    now_s = engine.clock.now().timestamp()

    def call(method, path, *, auth=admin, **parts):
        response = schema[path][method].Case(**parts).call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code < 300, (method, path, response.text[:300])
        json_answer = (response_content_type(response) or "").startswith("application/json")
        return response.json() if json_answer else response.text

    wedding = {"name": "Ana & Ben", "date": "2026-06-20", "timezone": "Europe/Paris",
               "ceremonyStart": "15:00", "receptionStart": "17:00", "receptionEnd": "01:00",
               "guestCount": 180, "services": ["api"], "priority": False}
    wedding_id = call("POST", "/api/scalability/weddings", body=wedding)["id"]
    call("PUT", "/api/scalability/weddings/{wedding_id}", path_parameters={"wedding_id": wedding_id},
         body={**wedding, "guestCount": 200})
    call("GET", "/api/scalability/weddings", query={"includeCancelled": "true"})
    csv = ("name,date,timezone,ceremony_start,reception_start,reception_end,guest_count,services,priority\n"
           "Cleo & Dan,2026-07-04,Europe/London,14:00,16:00,23:00,120,api;real-time,false\n")
    assert call("POST", "/api/scalability/weddings/import", media_type="text/csv", body=csv,
                query={"mode": "all_or_nothing"})["created"] == 1
    assert "BEGIN:VCALENDAR" in call("GET", "/api/scalability/weddings.ics", query={"includeCancelled": "true"})
    call("GET", "/api/scalability/predictions/accuracy")
    call("POST", "/api/scalability/metrics", media_type="application/json",
         body={"samples": [{"service": "api", "metric": "cpu_pct", "ts": now_s - 5, "value": 41.5}]})
    call("POST", "/api/scalability/metrics", media_type="text/plain",
         body=f'cpu_pct{{service="api"}} 42.5 {int(now_s * 1000)}\n')
    call("GET", "/api/scalability/metrics/realtime",
         query={"services": "api", "includeWeddingContext": "true", "since": str(now_s - 60)})
    sizes = call("GET", "/api/scalability/status",
                 query={"includeWeddingContext": "true", "includeDatabase": "true"})["services"]
    # Setting a service to its maximum from under two thirds of it is a large change: an
    # operator's request waits for approval.
    roomy = [name for name, s in sizes.items() if name != "api" and s["max"] > 1.5 * s["target"]][:2]
    assert len(roomy) == 2, sizes
    call("POST", "/api/scalability/actions/scale",
         body={"action": "scale_up", "services": ["api"], "reason": "fuzz journey", "urgency": "low",
               "pin_minutes": 30})
    assert call("DELETE", "/api/scalability/pins/{service}", path_parameters={"service": "api"})["released"]
    pending = [call("POST", "/api/scalability/actions/scale", auth=operator,
                    body={"action": "set", "services": [name], "instances": sizes[name]["max"],
                          "reason": "big night"})["decisions"][0]["id"] for name in roomy]
    call("POST", "/api/scalability/decisions/{decision_id}/approve",
         path_parameters={"decision_id": pending[0]}, body={"reason": "expected load"})
    call("POST", "/api/scalability/decisions/{decision_id}/reject",
         path_parameters={"decision_id": pending[1]}, body={"reason": "not needed"})
    call("GET", "/api/scalability/decisions", query={"limit": "10", "trigger": "manual"})
    grant = call("POST", "/api/scalability/breakglass", body={"minutes": 5, "reason": "journey"})
    alerts = call("GET", "/api/scalability/alerts", query={"open": "true", "history": "true"})["alerts"]
    assert alerts, "taking break-glass rights raises a security alert"
    call("POST", "/api/scalability/alerts/{alert_id}/ack", path_parameters={"alert_id": alerts[0]["id"]},
         body={"note": "seen"})
    call("POST", "/api/scalability/alerts/{alert_id}/silence", path_parameters={"alert_id": alerts[0]["id"]},
         body={"minutes": 30, "reason": "drill"})
    call("DELETE", "/api/scalability/breakglass/{grant_id}", path_parameters={"grant_id": grant["id"]})
    call("DELETE", "/api/scalability/weddings/{wedding_id}", path_parameters={"wedding_id": wedding_id})
    call("GET", "/api/audit", query={"limit": "5"})
    for fmt in ("csv", "jsonl"):
        call("GET", "/api/audit/export", query={"format": fmt})
    call("GET", "/api/docs")
