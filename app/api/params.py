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


def input_problem() -> tuple[str, dict] | None:
    """Return ``(message, details)`` when the request's input cannot safely reach a handler.

    Checked for every ``/api`` request before its handler runs, so every route behaves alike:

    - a JSON body nested so deeply that decoding it exhausts Python's recursion limit (the
      decoder raises RecursionError, not a ValueError ``get_json(silent=True)`` swallows);
    - text holding U+0000 in a query parameter or anywhere in a JSON body: PostgreSQL text
      cannot store, or even be compared with, it, so it would fail in the database with a
      500. It is refused on SQLite too, so both behave alike.
    """
    for name, values in request.args.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return _NUL, {"parameter": name.replace("\x00", "\\0")}
    if not request.is_json:
        return None
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return "the JSON body is nested too deeply", {"field": "body"}
    # JSON can only carry U+0000 as the escape \u0000 (a raw NUL byte is not valid JSON):
    # scanning the bytes is cheap, walking a 5,000-sample push body to name the field is not.
    if b"\\u0000" not in request.get_data(cache=True):
        return None
    found = _nul_path(body, "")
    return (_NUL, {"field": found or "body"}) if found is not None else None


_NUL = "text must not contain NUL characters"


def _nul_path(value, path: str) -> str | None:
    # A stack, not recursion: a deeply nested body must not exhaust Python's recursion limit.
    stack = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return here
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{here}.{key}" if here else key
                if "\x00" in key:
                    return child_path.replace("\x00", "\\0")
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{here}[{i}]", child) for i, child in enumerate(item))
    return None
