"""Console pages: one module each, with ``PAGE`` (a PageSpec) and ``register(app, engine)``."""

from __future__ import annotations

from app.pages import (alerts, audit, backups, forecast, health, live, notifications, overview, scaling, season,
                       security, users, weddings)
from app.pages.base import PageSpec
from engine.security.permissions import Permission

PAGE_MODULES = (overview, live, alerts, scaling, weddings, forecast, season, audit, users, health, notifications,
                backups, security)


def all_pages() -> list[PageSpec]:
    """Return every page in navigation order."""
    return [m.PAGE for m in PAGE_MODULES]


def page_permission(pages: list[PageSpec]):
    """Return ``path -> Permission | None`` for the request guard."""
    by_path = {p.path: p.permission for p in pages}

    def lookup(path: str) -> Permission | None:
        return by_path.get(path.rstrip("/") or "/")

    return lookup
