"""Errors the engine raises for callers to turn into CLI messages or HTTP answers."""

from __future__ import annotations


class WedscaleError(Exception):
    """Base of every expected, user-facing failure; ``message`` is one line."""

    code = "error"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(WedscaleError):
    """The request or command line is malformed or out of range (HTTP 422)."""

    code = "invalid_input"


class NotFound(WedscaleError):
    """The named thing does not exist (HTTP 404)."""

    code = "not_found"


class Conflict(WedscaleError):
    """The request clashes with the current state, e.g. a duplicate name (HTTP 409)."""

    code = "conflict"


class Forbidden(WedscaleError):
    """The principal lacks the permission (HTTP 403)."""

    code = "forbidden"
