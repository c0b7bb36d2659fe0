"""The wedding calendar as iCalendar (RFC 5545), for coordinators' calendar apps.

One ``VEVENT`` per wedding from the ceremony start to the end of the reception, in UTC
(``...Z`` times, so no ``VTIMEZONE`` is needed; the venue's zone is in the description).
Lines end in CRLF and are folded at 75 octets; text values are escaped. A cancelled wedding
(when included) carries ``STATUS:CANCELLED`` so calendar apps remove it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from engine.weddings import Wedding

PRODID = "-//Wedscale//Wedding calendar//EN"


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line into CRLF-separated pieces of at most 75 octets (§3.1)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # continuation lines start with one space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _event(w: Wedding, now: datetime, host: str) -> list[str]:
    description = (f"{w.guest_count} guests; venue time zone {w.timezone}; reception "
                   f"{w.reception_start:%H:%M}-{w.reception_end:%H:%M} UTC"
                   + (f"; services: {', '.join(w.services)}" if w.services else "")
                   + ("; priority" if w.priority else ""))
    return ["BEGIN:VEVENT", f"UID:wedding-{w.id}@{host}", f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(w.ceremony_start)}", f"DTEND:{_stamp(w.reception_end)}",
            f"SUMMARY:{escape_text(w.name)}", f"DESCRIPTION:{escape_text(description)}",
            f"STATUS:{'CANCELLED' if w.cancelled else 'CONFIRMED'}",
            f"CATEGORIES:{'PRIORITY,' if w.priority else ''}WEDDING", "END:VEVENT"]


def calendar_ics(weddings: Iterable[Wedding], now: datetime, host: str = "wedscale") -> str:
    """Return the iCalendar text of ``weddings`` (``now`` is every event's DTSTAMP)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Wedscale weddings"]
    for w in weddings:
        lines.extend(_event(w, now, host))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
