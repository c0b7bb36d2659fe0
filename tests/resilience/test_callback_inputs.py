"""Dash callbacks: a value of the wrong type is bad input (4xx or a message on the page); an
exception from our own code is a bug: a 500 with a generic JSON body and a logged traceback.

``app.access.guarded`` turns only the bad-input errors into 400 (``BAD_INPUT``). The sweep
below sends every server-side callback, for every input and state, values its component never
sends, once per trigger, and requires no 5xx: a callback that forgets to read a value through
``app.callback_values`` would raise a TypeError and fail here, naming the callback.
"""

from __future__ import annotations

import copy
import itertools
import logging

import pytest
from dash import Input, Output
from flask import got_request_exception

from app.access import guarded
from app.callback_values import text
from engine.security.permissions import Permission, Role
from tests.conftest import create_user, sign_in
from tests.integration.test_access import _forged_body

CALLBACK = "/_dash-update-component"
WRONG_TYPES = [[1, "a"], {"a": 1}, True, 10**20]


@pytest.fixture
def engine(unlimited_engine):
    """Forged and random input comes in bursts: the engine without rate limits."""
    return unlimited_engine


@pytest.fixture
def admin(app, engine):
    client = app.server.test_client()
    assert sign_in(client, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN)).status_code == 302
    return client


def _callback(app, state_id: str) -> str:
    """Return the key of the server-side callback that has ``state_id`` among its states."""
    return next(key for key, spec in app.callback_map.items()
                if "callback" in spec and any(s["id"] == state_id for s in spec["state"]))


def test_wrong_typed_values_are_never_a_5xx(app, admin):
    failures = []
    got_request_exception.connect(lambda _s, exception, **_kw: failures.append(repr(exception)), app.server)
    for key in sorted(k for k, spec in app.callback_map.items() if "callback" in spec):
        base = _forged_body(key, app.callback_map[key])
        items = len(base["inputs"]) + len(base["state"])
        for index, value, trigger in itertools.product(range(items), WRONG_TYPES, base["inputs"]):
            body = copy.deepcopy(base)
            item = (body["inputs"] + body["state"])[index]
            item["value"] = value
            body["changedPropIds"] = [f"{trigger['id']}.{trigger['property']}"]
            response = admin.post(CALLBACK, json=body)
            if response.status_code >= 500:
                failures.append(f"{key[:50]}: {item['id']}.{item['property']}={value!r} "
                                f"on {trigger['id']}: {response.status_code}")
            elif response.status_code >= 400:
                assert set(response.get_json()) == {"error", "message", "details"}
    assert not failures, failures[:10]


def test_a_wrong_type_in_a_guarded_callback_is_a_400(app, admin, caplog):
    key = _callback(app, "audit-page")
    body = _forged_body(key, app.callback_map[key])
    body["inputs"][0]["value"] = ["not", "text"]  # the actor filter, a text box
    with caplog.at_level(logging.WARNING):
        response = admin.post(CALLBACK, json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": "malformed callback input", "details": {}}
    assert any("refused malformed input" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_a_bug_in_a_guarded_callback_is_a_logged_500(app, engine, client, caplog):
    @app.callback(Output("bug-out", "children"), Input("bug-in", "value"), prevent_initial_call=True)
    @guarded(Permission.METRICS_READ)
    def buggy(value):
        text(value, "value")  # the input is fine ...
        return len(None)  # ... and then our own code fails: a TypeError is a bug, not bad input

    assert sign_in(client, "viewer", create_user(engine, "viewer", Role.SCALABILITY_VIEWER)).status_code == 302
    body = {"output": "bug-out.children", "outputs": {"id": "bug-out", "property": "children"},
            "inputs": [{"id": "bug-in", "property": "value", "value": "fine"}], "state": [],
            "changedPropIds": ["bug-in.value"]}
    with caplog.at_level(logging.ERROR):
        response = client.post(CALLBACK, json=body)
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal", "details": {},
                                   "message": "the server failed to answer; the error was logged"}
    assert "NoneType" not in response.get_data(as_text=True)  # nothing of the error leaks
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert logged and logged[0].exc_info[0] is TypeError
    assert "buggy" in logging.Formatter().formatException(logged[0].exc_info)  # the traceback


def test_a_bad_value_the_page_reports_stays_a_message(app, admin):
    key = _callback(app, "approval-pick")
    body = _forged_body(key, app.callback_map[key])
    next(item for item in body["state"] if item["id"] == "approval-pick")["value"] = 10**20  # no such id
    response = admin.post(CALLBACK, json=body)
    assert response.status_code == 200
    assert "decision must be an id between 1 and" in response.get_data(as_text=True)
