"""Wedding CSV import with a row-by-row error report. Audited.

Columns (DESIGN.md): ``name,date,timezone,ceremony_start,reception_start,reception_end,
guest_count,services,priority``; ``services`` separated by ``;``, ``priority`` true/false
(also yes/no, 1/0; empty = false). Every row is checked with the same rules as a wedding
entered by hand (:func:`engine.wedding_book.to_utc_times`), plus:

- an unknown or missing column fails the header (row 1) and so the whole file;
- a wedding *overlaps* when another row, or a stored uncancelled wedding, has the same name
  and an overlapping wedding window: the same couple booked twice. We do not model venues,
  so two weddings at the same time under different names are fine.

Modes: ``all_or_nothing`` (default) stores nothing when any row is invalid; ``valid_only``
stores the valid rows and reports the others. Row numbers are file lines (the header is 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.security.audit import Actor
from engine.storage.models import WeddingRow
from engine.wedding_book import WeddingBook, WeddingInput, to_utc_times
from engine.weddings import PREPARATION, WIND_DOWN

COLUMNS = ("name", "date", "timezone", "ceremony_start", "reception_start", "reception_end",
           "guest_count", "services", "priority")
OPTIONAL = ("services", "priority")
MODES = ("all_or_nothing", "valid_only")
MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0", "")


@dataclass(frozen=True)
class RowError:
    """One problem: file line (1 = header), column (or ""), message."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        """Return the JSON shape."""
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    stored: bool = False

    def as_dict(self) -> dict:
        """Return the JSON shape."""
        return {"rows": self.rows, "valid": self.rows - len({e.row for e in self.errors if e.row > 1}),
                "created": len(self.created_ids), "createdIds": self.created_ids, "stored": self.stored,
                "errors": [e.as_dict() for e in self.errors]}


def _priority(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput("priority must be true or false", {"field": "priority"})


def _guests(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("guest_count must be a whole number", {"field": "guest_count"}) from None


def _input_of(record: dict[str, str]) -> WeddingInput:
    services = tuple(s.strip() for s in (record.get("services") or "").split(";") if s.strip())
    return WeddingInput(name=record["name"], date=record["date"].strip(), timezone=record["timezone"].strip(),
                        ceremony_start=record["ceremony_start"].strip(),
                        reception_start=record["reception_start"].strip(),
                        reception_end=record["reception_end"].strip(),
                        guest_count=_guests(record["guest_count"]),
                        services=services, priority=_priority(record.get("priority") or ""))


def parse_csv(text: str) -> tuple[list[tuple[int, WeddingInput, tuple]], ImportReport]:
    """Return the valid rows as ``(line, input, utc times)`` and the report of the bad ones."""
    report = ImportReport()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        report.errors.append(RowError(1, "file", "the file is empty: no header row"))
        return [], report
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL]
    if unknown:
        report.errors.append(RowError(1, unknown[0], f"unknown column(s): {', '.join(unknown)}"))
    if missing:
        report.errors.append(RowError(1, missing[0], f"missing column(s): {', '.join(missing)}"))
    if len(set(header)) != len(header):
        report.errors.append(RowError(1, "", "a column appears twice"))
    if report.errors:
        return [], report
    valid = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(line, "", f"more than {MAX_ROWS} rows"))
            break
        if len(cells) != len(header):
            report.errors.append(RowError(line, "", f"expected {len(header)} values, got {len(cells)}"))
            continue
        try:
            data = _input_of(dict(zip(header, cells)))
            valid.append((line, data, to_utc_times(data)))
        except InvalidInput as exc:
            report.errors.append(RowError(line, exc.details.get("field", ""), exc.message))
    return valid, report


def _window(times: tuple) -> tuple[datetime, datetime]:
    ceremony, _, end = times
    return ceremony - PREPARATION, end + WIND_DOWN


def _overlaps(session: Session, valid: list, report: ImportReport) -> list:
    """Drop (and report) rows that book a couple twice, within the file or against the calendar."""
    kept: list = []
    stored = session.execute(select(WeddingRow).where(WeddingRow.cancelled.is_(False))).scalars().all()
    existing = [(r.name.strip().lower(), r.ceremony_start - PREPARATION, r.reception_end + WIND_DOWN, f"wedding #{r.id}")
                for r in stored]
    for line, data, times in valid:
        lo, hi = _window(times)
        name = data.name.strip().lower()
        clash = next((label for other, a, b, label in existing if other == name and a < hi and lo < b), None)
        if clash:
            report.errors.append(RowError(line, "date", f"overlaps {clash} of the same couple"))
            continue
        existing.append((name, lo, hi, f"row {line}"))
        kept.append((line, data, times))
    return kept


def import_weddings(session: Session, book: WeddingBook, text: str, *, mode: str, actor: Actor,
                    now: datetime) -> ImportReport:
    """Check every row of a wedding CSV and store them as ``mode`` says; return the report.

    Raises InvalidInput for an unknown mode or a file that is too large.
    """
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}", {"field": "mode"})
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 1024} KiB", {"field": "file"})
    valid, report = parse_csv(text)
    valid = _overlaps(session, valid, report)
    report.errors.sort(key=lambda e: e.row)
    header_bad = any(e.row == 1 for e in report.errors)
    if header_bad or (report.errors and mode == "all_or_nothing") or not valid:
        outcome = "rejected" if report.errors else "empty"
    else:
        for _, data, _ in valid:
            report.created_ids.append(book.create(session, data, actor, now).id)
        report.stored, outcome = True, "ok"
    book.audit.record(session, now=now, actor=actor, action="wedding.import", outcome=outcome,
                      target=f"{report.rows} row(s)",
                      details={"mode": mode, "created": len(report.created_ids), "errors": len(report.errors)})
    return report
