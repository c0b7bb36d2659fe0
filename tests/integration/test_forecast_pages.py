"""Forecast, Season and Weddings pages through their Dash callbacks and layouts (no browser)."""

from __future__ import annotations

import base64
import json

from engine.security.permissions import Role
from engine.storage.models import AuditEntry, ForecastRow, WeddingRow
from tests.integration.test_forecasts import _next_wedding, db_url, forecast_template, ready  # noqa: F401

HEADER = "name,date,timezone,ceremony_start,reception_start,reception_end,guest_count,services,priority\n"


def _callback(app, client, first_output: str, inputs: dict, state: dict | None = None, triggered: str = ""):
    """POST one callback (found by one of its output ids) with the given input/state values."""
    key, spec = next((k, v) for k, v in app.callback_map.items() if f"{first_output}." in k)
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
               for o in key.strip(".").split("...")]
    body = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{**i, "value": inputs.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
            "state": [{**s, "value": (state or {}).get(f"{s['id']}.{s['property']}")} for s in spec["state"]],
            "changedPropIds": [triggered or f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}
    return client.post("/_dash-update-component", json=body)


def test_forecast_page_draws_a_stored_wedding_forecast(app, ready, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    wedding = _next_wedding(ready)
    response = _callback(app, client, "forecast-body", {"forecast-wedding.value": str(wedding.id)})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert wedding.name in text and "forecast-bands" in text and "forecast-timeline" in text
    with ready.db.session() as session:
        stored = session.query(ForecastRow).one()
        assert (stored.kind, stored.wedding_id, stored.actor) == ("wedding", wedding.id, "coordinator")
    # the URL's ?wedding= opens that wedding and sets the picker
    by_url = _callback(app, client, "forecast-body", {"url.search": f"?wedding={wedding.id}"}, triggered="url.search")
    assert json.loads(by_url.get_data())["response"]["forecast-wedding"]["value"] == str(wedding.id)


def test_forecast_page_for_a_day(app, ready, login_as):
    client = login_as(Role.SCALABILITY_OPERATOR)
    response = _callback(app, client, "forecast-body", {"forecast-day.value": "2026-06-20"},
                         triggered="forecast-day.value")
    assert response.status_code == 200 and "Saturday 20 June 2026" in response.get_data(as_text=True)


def test_prescale_button_creates_pending_decisions(app, ready, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    wedding = _next_wedding(ready)
    response = _callback(app, client, "forecast-prescale-feedback", {"forecast-prescale.n_clicks": 1},
                         {"forecast-wedding.value": str(wedding.id), "forecast-prescale-note.value": "please"})
    assert "Sent to the operators" in response.get_data(as_text=True)


def test_season_and_forecast_pages_open_for_coordinators(ready, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    body = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/season"}],
            "changedPropIds": ["url.pathname"], "state": []}
    season = client.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert "season-heatmap" in season and "season-weeks" in season and "season-capacity" in season


def test_editor_creates_edits_and_cancels_audited(app, engine, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    fields = {"wedding-name.value": "Nora & Theo", "wedding-date.value": "2026-07-04",
              "wedding-zone.value": "Europe/Berlin", "wedding-ceremony.value": "15:00",
              "wedding-reception-start.value": "16:30", "wedding-reception-end.value": "23:30",
              "wedding-guests.value": 160, "wedding-services.value": ["RSVP"], "wedding-priority.value": True}
    created = _callback(app, client, "weddings-feedback", {"wedding-save.n_clicks": 1},
                        {"wedding-edit-pick.value": "new", **fields})
    assert "Added Nora &amp; Theo" in created.get_data(as_text=True) or "Added Nora & Theo" in created.get_data(as_text=True)
    with engine.db.session() as session:
        row = session.query(WeddingRow).one()
        assert row.priority and row.ceremony_start.hour == 13          # 15:00 in Berlin summer = 13:00 UTC
    loaded = _callback(app, client, "wedding-name", {"wedding-edit-pick.value": str(row.id)})
    assert json.loads(loaded.get_data())["response"]["wedding-ceremony"]["value"] == "15:00"
    _callback(app, client, "weddings-feedback", {"wedding-save.n_clicks": 2},
              {"wedding-edit-pick.value": str(row.id), **fields, "wedding-guests.value": 80})
    bad = _callback(app, client, "weddings-feedback", {"wedding-save.n_clicks": 3},
                    {"wedding-edit-pick.value": str(row.id), **fields, "wedding-date.value": "2026-02-30"})
    assert "weddings-error" in bad.get_data(as_text=True)
    _callback(app, client, "weddings-feedback", {"wedding-cancel.n_clicks": 1},
              {"wedding-edit-pick.value": str(row.id)}, triggered="wedding-cancel.n_clicks")
    with engine.db.session() as session:
        row = session.query(WeddingRow).one()
        assert (row.guest_count, row.cancelled) == (80, True)
        actions = [a.action for a in session.query(AuditEntry).filter(AuditEntry.action.like("wedding.%"))]
    assert actions == ["wedding.create", "wedding.update", "wedding.cancel"]


def test_upload_reports_bad_rows_and_honours_valid_only(app, engine, login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    text = HEADER + "A & B,2026-06-20,Europe/London,14:00,15:00,20:00,90,,\nC & D,2026-06-21,Nowhere/Else,14:00,15:00,20:00,90,,\n"
    contents = "data:text/csv;base64," + base64.b64encode(text.encode()).decode()
    strict = _callback(app, client, "weddings-import-report", {"weddings-upload.contents": contents},
                       {"weddings-valid-only.value": False}).get_data(as_text=True)
    assert "Nothing imported" in strict and "unknown time zone" in strict
    loose = _callback(app, client, "weddings-import-report", {"weddings-upload.contents": contents},
                      {"weddings-valid-only.value": True}).get_data(as_text=True)
    assert "Imported 1 of 2" in loose
    with engine.db.session() as session:
        assert [r.name for r in session.query(WeddingRow)] == ["A & B"]
