"""The predictions request as a value, parsed from the API body with field-naming errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from engine.errors import InvalidInput

MAX_HORIZON_HOURS = 168
FIELDS = ("timeHorizonHours", "includeWeddingContext", "includeCostEstimates", "weddingId", "services", "start")


@dataclass(frozen=True)
class PredictionRequest:
    """What to forecast: the next ``horizon_hours`` hours, or one wedding's day.

    ``services`` empty means every service. With ``wedding_id`` the range is the wedding day
    and ``horizon_hours`` is ignored. ``start`` (aware UTC) moves the range's first hour from
    now to another time, so a date range is ``start`` + ``horizon_hours``.
    """

    horizon_hours: int = 24
    include_weddings: bool = True
    include_costs: bool = True
    wedding_id: int | None = None
    services: tuple[str, ...] = ()
    start: datetime | None = None

    def as_dict(self) -> dict:
        """Return the request in the API's names (stored with the forecast)."""
        return {"timeHorizonHours": self.horizon_hours, "includeWeddingContext": self.include_weddings,
                "includeCostEstimates": self.include_costs, "weddingId": self.wedding_id,
                "services": list(self.services),
                "start": self.start.isoformat() if self.start else None}


def _whole(body: dict, name: str, default, low: int, high: int | None):
    value = body.get(name, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"≥ {low}"
        raise InvalidInput(f"{name} must be a whole number {span}", {"field": name})
    return value


def _flag(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", {"field": name})
    return value


def _start(body: dict) -> datetime | None:
    value = body.get("start")
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("start must be an ISO 8601 date or time, e.g. 2026-06-13T00:00:00Z",
                           {"field": "start"}) from None
    # a date or a time without zone is UTC (the engine's clock)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def parse_prediction_request(body: dict, known_services: list[str]) -> PredictionRequest:
    """Return the request of an API body; raise InvalidInput naming the first bad field."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", {"field": unknown[0]})
    services = body.get("services", [])
    if services is None:
        services = []
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise InvalidInput("services must be a list of service names", {"field": "services"})
    strangers = [s for s in services if s not in known_services]
    if strangers:
        raise InvalidInput(f"unknown service(s): {', '.join(strangers)}",
                           {"field": "services", "allowed": known_services})
    return PredictionRequest(
        start=_start(body),
        horizon_hours=_whole(body, "timeHorizonHours", 24, 1, MAX_HORIZON_HOURS),
        include_weddings=_flag(body, "includeWeddingContext", True),
        include_costs=_flag(body, "includeCostEstimates", True),
        wedding_id=_whole(body, "weddingId", None, 1, None),
        services=tuple(dict.fromkeys(services)),
    )
