"""The wedding calendar API: coordinators edit (audited), viewers cannot, bad input is 422."""

from __future__ import annotations

import pytest

from engine.security.permissions import Role
from engine.storage.models import AuditEntry, WeddingRow

GOOD = {"name": "Ava & Noah", "date": "2026-06-20", "timezone": "Europe/Paris",
        "ceremonyStart": "15:00", "receptionStart": "17:00", "receptionEnd": "01:00",
        "guestCount": 180, "services": ["photo sharing", "RSVP"], "priority": True}


def test_coordinator_creates_updates_and_cancels(login_as, engine):
    client = login_as(Role.WEDDING_COORDINATOR)
    created = client.post("/api/scalability/weddings", json=GOOD)
    assert created.status_code == 201
    body = created.get_json()
    assert body["ceremonyStart"] == "2026-06-20T13:00:00+00:00"      # Paris summer time, UTC+2
    assert body["receptionEnd"] == "2026-06-20T23:00:00+00:00"       # 01:00 local: the next day
    assert [w.name for w in engine.calendar.all()] == ["Ava & Noah"]  # the cache was refreshed
    updated = client.put(f"/api/scalability/weddings/{body['id']}", json={**GOOD, "guestCount": 90})
    assert updated.get_json()["guestCount"] == 90
    assert client.delete(f"/api/scalability/weddings/{body['id']}").get_json()["cancelled"] is True
    assert engine.calendar.all() == []
    listed = client.get("/api/scalability/weddings?from=2026-06-01&to=2026-07-01&includeCancelled=true")
    assert len(listed.get_json()["weddings"]) == 1
    with engine.db.session() as session:
        actions = [r.action for r in session.query(AuditEntry).filter(AuditEntry.action.like("wedding.%"))]
    assert actions == ["wedding.create", "wedding.update", "wedding.cancel"]


@pytest.mark.parametrize("change, field", [
    ({"date": "2026-02-30"}, "date"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"ceremonyStart": "3pm"}, "ceremony_start"),
    ({"receptionStart": "14:00"}, "reception_start"),
    ({"guestCount": 0}, "guest_count"),
    ({"guestCount": "many"}, "guest_count"),
    ({"name": ""}, "name"),
    ({"venue": "castle"}, "venue"),
    ({"priority": "yes"}, "priority"),
])
def test_bad_weddings_are_422_naming_the_field_and_store_nothing(login_as, engine, change, field):
    client = login_as(Role.WEDDING_COORDINATOR)
    response = client.post("/api/scalability/weddings", json={**GOOD, **change})
    assert response.status_code == 422
    assert response.get_json()["details"]["field"] == field
    with engine.db.session() as session:
        assert session.query(WeddingRow).count() == 0


def test_viewer_cannot_read_or_edit_the_calendar(login_as):
    client = login_as(Role.SCALABILITY_VIEWER)
    assert client.get("/api/scalability/weddings").status_code == 403
    assert client.post("/api/scalability/weddings", json=GOOD).status_code == 403


def test_missing_wedding_is_404(login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    assert client.delete("/api/scalability/weddings/999").status_code == 404
    assert client.put("/api/scalability/weddings/999", json=GOOD).status_code == 404
