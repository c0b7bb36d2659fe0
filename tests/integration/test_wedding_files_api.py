"""Wedding CSV import through the API (bad rows, both modes, audited) and the ICS export."""

from __future__ import annotations

import io

import pytest

from engine.security.permissions import Role
from engine.storage.models import AuditEntry, WeddingRow

HEADER = "name,date,timezone,ceremony_start,reception_start,reception_end,guest_count,services,priority\n"
GOOD = ["Ava & Noah,2026-06-20,Europe/Paris,15:00,17:00,01:00,180,photo sharing;RSVP,true",
        "Mia & Liam,2026-06-27,Europe/London,14:00,15:30,22:00,90,,false"]
BAD = ["Zoe & Omar,2026-13-01,Europe/London,14:00,15:00,20:00,90,,",     # no 13th month
       "Ava & Noah,2026-06-20,Europe/Paris,16:00,18:00,23:00,120,,"]      # the same couple, same evening


def _csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def _stored(engine) -> list[str]:
    with engine.db.session() as session:
        return sorted(r.name for r in session.query(WeddingRow))


def test_a_bad_row_stores_nothing_and_reports_every_row(login_as, engine):
    client = login_as(Role.WEDDING_COORDINATOR)
    response = client.post("/api/scalability/weddings/import", data=_csv(*GOOD, *BAD), content_type="text/csv")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_input" and body["details"]["field"] == "date"
    assert [(e["row"], e["field"]) for e in body["details"]["errors"]] == [(4, "date"), (5, "date")]
    assert "overlaps row 2" in body["details"]["errors"][1]["message"]
    assert body["details"]["stored"] is False and _stored(engine) == []
    with engine.db.session() as session:
        audit = session.query(AuditEntry).filter_by(action="wedding.import").one()
        assert audit.outcome == "rejected"


def test_valid_only_stores_the_good_rows(login_as, engine):
    client = login_as(Role.WEDDING_COORDINATOR)
    upload = {"file": (io.BytesIO(_csv(*GOOD, *BAD)), "weddings.csv")}
    response = client.post("/api/scalability/weddings/import?mode=valid_only", data=upload,
                           content_type="multipart/form-data")
    assert response.status_code == 201
    body = response.get_json()
    assert (body["rows"], body["created"], len(body["errors"]), body["stored"]) == (4, 2, 2, True)
    assert _stored(engine) == ["Ava & Noah", "Mia & Liam"]
    assert [w.name for w in engine.calendar.all()] == ["Ava & Noah", "Mia & Liam"]   # cache refreshed
    # importing the same file again: both good rows now overlap the stored weddings
    again = client.post("/api/scalability/weddings/import?mode=valid_only", data=_csv(*GOOD), content_type="text/csv")
    assert again.status_code == 422 and all("overlaps wedding #" in e["message"]
                                            for e in again.get_json()["details"]["errors"])


@pytest.mark.parametrize("data, field", [
    (b"name,date,venue\nA,2026-06-20,Barn\n", "venue"),
    (b"\xff\xfe\x00bad", "file"),
    (b"", "file"),
])
def test_unreadable_files_are_422_naming_the_problem(login_as, data, field):
    response = login_as(Role.WEDDING_COORDINATOR).post("/api/scalability/weddings/import", data=data,
                                                        content_type="text/csv")
    assert response.status_code == 422 and response.get_json()["details"]["field"] == field


def test_unknown_mode_is_422(login_as):
    response = login_as(Role.WEDDING_COORDINATOR).post("/api/scalability/weddings/import?mode=some",
                                                        data=_csv(*GOOD), content_type="text/csv")
    assert response.status_code == 422 and response.get_json()["details"]["field"] == "mode"


def test_viewer_cannot_import(login_as, engine):
    response = login_as(Role.SCALABILITY_VIEWER).post("/api/scalability/weddings/import", data=_csv(*GOOD),
                                                       content_type="text/csv")
    assert response.status_code == 403 and _stored(engine) == []


def test_ics_export_lists_the_calendar(login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    client.post("/api/scalability/weddings/import", data=_csv(*GOOD), content_type="text/csv")
    response = client.get("/api/scalability/weddings.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    lines = response.get_data(as_text=True).replace("\r\n ", "").split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260620T130000Z" in lines and "DTEND:20260620T230000Z" in lines
