"""The season view: expected peak load and capacity cost per day for the coming weeks.

Built from an :class:`~engine.forecast.outlook.Outlook` over whole UTC days. The "expected
peak load" of a day is the highest hourly sum of the p50 request rates of every service
(req/s); the week's peak day is the day with the highest such peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from engine.forecast.outlook import Outlook

WEEKS = 12


@dataclass(frozen=True)
class SeasonDay:
    """One day of the season view."""

    day: date
    peak_rps: float
    peak_hour: int
    n_weddings: int
    guests: int
    cost: float
    budget: float

    @property
    def wedding_day(self) -> bool:
        """True when a wedding ceremony is on this day."""
        return self.n_weddings > 0


@dataclass(frozen=True)
class SeasonWeek:
    """One week: its first day, its days and its peak day."""

    start: date
    days: tuple[SeasonDay, ...]

    @property
    def peak_day(self) -> SeasonDay:
        """The day of the week with the highest expected peak load."""
        return max(self.days, key=lambda d: d.peak_rps)


def season_view(outlook: Outlook) -> list[SeasonWeek]:
    """Return the outlook as weeks of days (the outlook starts at a midnight, whole days)."""
    total = sum((f.p50 for f in outlook.services.values()), np.zeros(len(outlook.hours)))
    costs = {d.day: d for d in outlook.days}
    ceremonies: dict[date, list] = {}
    for w in outlook.weddings:
        ceremonies.setdefault(w.ceremony_start.date(), []).append(w)
    days = []
    for i in range(0, len(outlook.hours) - 23, 24):
        day = outlook.hours[i].date()
        block = total[i:i + 24]
        top = int(np.argmax(block)) if len(block) else 0
        booked = ceremonies.get(day, [])
        cost = costs.get(day)
        days.append(SeasonDay(day, round(float(block[top]), 1), outlook.hours[i + top].hour, len(booked),
                              sum(w.guest_count for w in booked), cost.cost if cost else 0.0,
                              cost.budget if cost else 0.0))
    weeks = []
    for i in range(0, len(days), 7):
        chunk = tuple(days[i:i + 7])
        if chunk:
            weeks.append(SeasonWeek(chunk[0].day, chunk))
    return weeks


def season_start(today: date) -> date:
    """Return the first day of the season view: the Monday of ``today``'s week.

    Whole Monday-to-Sunday weeks keep the heat map's columns aligned to weekdays; this week's
    days before today are shown too (as the model's view of them), so this Saturday is in.
    """
    return today - timedelta(days=today.weekday())


def season_json(weeks: list[SeasonWeek]) -> dict:
    """Return the season view as JSON."""
    return {"weeks": [{"start": w.start.isoformat(), "peakDay": w.peak_day.day.isoformat(),
                       "days": [{"date": d.day.isoformat(), "peakRps": d.peak_rps, "peakHour": d.peak_hour,
                                 "weddings": d.n_weddings, "guests": d.guests, "cost": d.cost,
                                 "budget": d.budget} for d in w.days]} for w in weeks]}
