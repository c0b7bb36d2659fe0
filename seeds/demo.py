"""Demo data: a season of weddings around today and, on request, the four demo users.

Deterministic for a given day (seeded RNG), idempotent (weddings only when the calendar is
empty; users only when missing).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select

from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.storage.models import WeddingRow

DEMO_PASSWORD = "demo"
DEMO_USERS = (("admin", Role.SCALABILITY_ADMIN), ("operator", Role.SCALABILITY_OPERATOR),
              ("coordinator", Role.WEDDING_COORDINATOR), ("viewer", Role.SCALABILITY_VIEWER))
ZONES = ("Europe/London", "Europe/Paris", "America/New_York", "Europe/Berlin")
FIRST = ("Ava", "Noah", "Mia", "Liam", "Zoe", "Omar", "Iris", "Luca", "Nora", "Sam", "Lena", "Theo",
         "Ruby", "Ezra", "Maya", "Finn")
SERVICE_MIX = ("photo sharing", "live streaming", "RSVP", "payments")
PAST_DAYS, FUTURE_DAYS = 90, 180
SEED_ACTOR = Actor("demo-seed", "system", "local")


def _weddings_on(day: date, rng: np.random.Generator) -> int:
    in_season = 5 <= day.month <= 10
    weekday = day.weekday()  # Monday 0 ... Saturday 5, Sunday 6
    if weekday == 5:
        return int(rng.integers(3, 7) if in_season else rng.integers(0, 3))
    if weekday in (4, 6):
        return int(rng.integers(0, 3) if in_season else rng.integers(0, 2))
    return int(rng.random() < (0.08 if in_season else 0.03))


def _wedding(day: date, rng: np.random.Generator, now: datetime) -> WeddingRow:
    zone = ZONES[int(rng.integers(len(ZONES)))]
    local = datetime.combine(day, time(int(rng.integers(12, 17)), int(rng.choice([0, 30]))),
                             tzinfo=ZoneInfo(zone))
    ceremony = local.astimezone(ZoneInfo("UTC"))
    reception = ceremony + timedelta(minutes=int(rng.choice([60, 90, 120])))
    end = reception + timedelta(hours=int(rng.integers(4, 7)))
    a, b = rng.choice(len(FIRST), size=2, replace=False)
    guests = int(rng.choice([60, 90, 120, 150, 180, 250], p=[0.2, 0.25, 0.25, 0.15, 0.1, 0.05]))
    services = [s for s in SERVICE_MIX if rng.random() < 0.6] or ["RSVP"]
    return WeddingRow(name=f"{FIRST[a]} & {FIRST[b]}", timezone=zone, ceremony_start=ceremony,
                      reception_start=reception, reception_end=end, guest_count=guests,
                      services=";".join(services), vendors="", priority=bool(rng.random() < 0.08),
                      cancelled=False, created_at=now, updated_at=now)


def demo_weddings(today: date, now: datetime, seed: int = 2026) -> list[WeddingRow]:
    """Return the demo calendar: ``PAST_DAYS`` before to ``FUTURE_DAYS`` after ``today``."""
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        rows.extend(_wedding(day, rng, now) for _ in range(_weddings_on(day, rng)))
    return rows


def seed_demo(engine, *, with_users: bool) -> tuple[int, int]:
    """Seed weddings (if none) and, with ``with_users``, the demo users; return the counts added."""
    now = engine.clock.now()
    n_weddings = n_users = 0
    with engine.db.session() as session:
        if not session.scalar(select(func.count()).select_from(WeddingRow)):
            rows = demo_weddings(now.date(), now)
            session.add_all(rows)
            n_weddings = len(rows)
        if with_users:
            for name, role in DEMO_USERS:
                if engine.accounts.find(session, name) is None:
                    engine.accounts.create_user(session, name, DEMO_PASSWORD, role, SEED_ACTOR)
                    n_users += 1
    engine.calendar.invalidate()
    return n_weddings, n_users
