"""The shape of a Dash callback request, checked before Dash dispatches it.

Dash trusts its own front end: a hand-made body without ``output``, with ``inputs`` that are
not a list of ``{id, property, value}`` or naming a callback that does not exist ends in a
KeyError inside Dash, i.e. a 500. This hook answers those with a 400 JSON error instead. The
guard has already checked the session by then (it is registered first).
"""

from __future__ import annotations

from dash import Dash
from flask import request

from app.access import json_error

CALLBACK_PATH = "/_dash-update-component"


def _items(value, name: str) -> str:
    if not isinstance(value, list):
        return f"{name} must be a list"
    for item in value:
        # Pattern-matching callbacks send lists of items for one dependency.
        for entry in item if isinstance(item, list) else [item]:
            if not isinstance(entry, dict) or not isinstance(entry.get("property"), str) \
                    or not isinstance(entry.get("id"), (str, dict)):
                return f"every entry of {name} must be an object with id and property"
    return ""


def callback_body_problem(body, known_outputs) -> str:
    """Return what is wrong with a callback request body, or "" when Dash can dispatch it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in known_outputs:
        return "unknown callback output"
    outputs = body.get("outputs")
    if not isinstance(outputs, (dict, list)):
        return "outputs must be an object or a list"
    for name in ("inputs", "state"):
        problem = _items(body.get(name, []), name)
        if problem:
            return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return ""


def install_callback_validation(app: Dash) -> None:
    """Refuse malformed callback requests with 400 before Dash sees them."""

    @app.server.before_request
    def _check_callback_body():
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        if not request.is_json:
            return json_error(415, "unsupported_media_type", "callback requests are JSON")
        # Clientside callbacks are in the map too but have no server function to run.
        server_side = {key for key, spec in app.callback_map.items() if "callback" in spec}
        problem = callback_body_problem(request.get_json(silent=True), server_side)
        if problem:
            return json_error(400, "bad_request", f"malformed callback request: {problem}")
        return None
