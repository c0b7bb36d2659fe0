"""Wedding CSV parsing (row-by-row report) and ICS export, without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.wedding_ics import calendar_ics, fold
from engine.wedding_import import parse_csv
from engine.weddings import Wedding

HEADER = "name,date,timezone,ceremony_start,reception_start,reception_end,guest_count,services,priority\n"


def test_good_rows_parse_to_utc():
    valid, report = parse_csv(HEADER + "Ava & Noah,2026-06-20,Europe/Paris,15:00,17:00,01:00,180,photo sharing;RSVP,true\n")
    assert report.errors == [] and report.rows == 1
    line, data, (ceremony, _, end) = valid[0]
    assert (line, data.services, data.priority) == (2, ("photo sharing", "RSVP"), True)
    assert ceremony == datetime(2026, 6, 20, 13, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 6, 20, 23, 0, tzinfo=timezone.utc)


def test_every_bad_row_is_reported_with_its_line_and_column():
    text = HEADER + "\n".join([
        "Good,2026-06-20,Europe/London,14:00,15:00,20:00,100,RSVP,false",
        "Bad date,2026-02-30,Europe/London,14:00,15:00,20:00,100,,",
        "Bad zone,2026-06-20,Mars/Olympus,14:00,15:00,20:00,100,,",
        "Bad time,2026-06-20,Europe/London,2pm,15:00,20:00,100,,",
        "Bad guests,2026-06-20,Europe/London,14:00,15:00,20:00,lots,,",
        "Bad flag,2026-06-20,Europe/London,14:00,15:00,20:00,100,,maybe",
        "Short row,2026-06-20",
    ]) + "\n"
    valid, report = parse_csv(text)
    assert [line for line, _, _ in valid] == [2]
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "date"), (4, "timezone"), (5, "ceremony_start"), (6, "guest_count"), (7, "priority"), (8, "")]
    assert report.rows == 7


def test_unknown_or_missing_columns_fail_the_header():
    valid, report = parse_csv("name,date,venue\nA,2026-06-20,Barn\n")
    assert valid == []
    assert [(e.row, e.field) for e in report.errors] == [(1, "venue"), (1, "timezone")]


def _unfold(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_ics_is_rfc5545_with_utc_times_and_escaped_text():
    ceremony = datetime(2026, 6, 20, 13, 0, tzinfo=timezone.utc)
    weddings = [Wedding(7, "Ava, Noah; and \\ friends " + "x" * 80, "Europe/Paris", ceremony,
                        ceremony + timedelta(hours=2), ceremony + timedelta(hours=10), 180, ("RSVP",), True),
                Wedding(8, "Gone", "UTC", ceremony, ceremony, ceremony + timedelta(hours=1), 10, cancelled=True)]
    text = calendar_ics(weddings, datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc), host="example.org")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            key, _, value = line.partition(":")
            current[key] = value
    assert len(events) == 2
    first = events[0]
    assert first["UID"] == "wedding-7@example.org"
    assert (first["DTSTART"], first["DTEND"], first["DTSTAMP"]) == ("20260620T130000Z", "20260620T230000Z",
                                                                    "20260601T093000Z")
    assert first["SUMMARY"].startswith("Ava\\, Noah\\; and \\\\ friends xxx")
    assert "Europe/Paris" in first["DESCRIPTION"] and first["STATUS"] == "CONFIRMED"
    assert events[1]["STATUS"] == "CANCELLED"


def test_fold_counts_octets_not_characters():
    line = "SUMMARY:" + "é" * 60
    pieces = fold(line).split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(p.encode()) <= 75 for p in pieces)
