"""The break-glass form of the "outside your access hours" page (plain HTML, CSRF-checked).

An operator refused by their access window can still take emergency rights here: the grant
lifts the window for its duration (DESIGN: emergency override), and admins are alerted.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from app.access import render_outside_window, require
from app.api.breakglass import take_breakglass
from engine.errors import WedscaleError
from engine.security.permissions import Permission

bp = Blueprint("emergency", __name__)


@bp.post("/access/breakglass")
def take_from_form():
    """Take break-glass rights from the form; back to the console on success."""
    require(Permission.BREAKGLASS_TAKE)
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValidationError:
        return render_outside_window("The form expired; please try again.", "The form expired."), 400
    try:
        minutes = int(request.form.get("minutes") or 60)
        take_breakglass(minutes, request.form.get("reason", ""))
    except (ValueError, WedscaleError) as exc:
        message = getattr(exc, "message", None) or "minutes must be a whole number between 1 and 60"
        return render_outside_window("You are outside your access hours.", message), 422
    return redirect("/")


def register_emergency(server: Flask) -> None:
    """Add the break-glass form route to ``server``."""
    server.register_blueprint(bp)
