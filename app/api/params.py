"""Query-string parsing for the API: each helper raises InvalidInput naming the parameter."""

from __future__ import annotations

import math

from flask import request

from engine.errors import InvalidInput


def csv_list(name: str, allowed: list[str], default: list[str]) -> list[str]:
    """Return the comma-separated values of ``name``, each checked against ``allowed``."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InvalidInput(f"unknown {name}: {', '.join(unknown)}",
                           {"parameter": name, "allowed": allowed})
    return values


def number(name: str, default: float | None) -> float | None:
    """Return the finite float value of ``name`` or ``default``."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number (Unix seconds)", {"parameter": name}) from None
    if not math.isfinite(value):
        raise InvalidInput(f"{name} must be finite", {"parameter": name})
    return value


def flag(name: str, default: bool = False) -> bool:
    """Return a boolean query flag (true/false/1/0/yes/no)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidInput(f"{name} must be true or false", {"parameter": name})


def json_body() -> dict:
    """Return the request's JSON object; raise InvalidInput for anything else."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return body


def text_field(body: dict, name: str, default: str = "") -> str:
    """Return ``body[name]`` when it is text (``default`` when absent); raise InvalidInput naming it."""
    value = body.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", {"field": name})
    return value
