"""Read the values of Dash callback inputs, refusing what their components never send.

A forged callback request can put any JSON value in any input. A callback reads the values
it uses through these functions; one of the wrong type or out of range raises
``MalformedValue`` (a ValueError), which ``app.access.guarded`` answers with 400 and a page
that already reports ValueError shows as its message. Left unread, a list where text was
expected would end in a TypeError deep inside the callback, which cannot be told apart from a
bug in our own code (a 500).
"""

from __future__ import annotations

# Row ids are PostgreSQL integers (as app.api.MAX_ID); a larger one overflows the driver.
MAX_ID = 2**31 - 1


class MalformedValue(ValueError):
    """A callback input holds a value its component never sends."""

    def __init__(self, name: str, expected: str, value):
        super().__init__(f"{name} must be {expected}")
        self.got = type(value).__name__


def text(value, name: str) -> str:
    """Return the text of an input (``""`` when empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedValue(name, "text", value)
    return value


def texts(value, name: str) -> list[str]:
    """Return the choices of a multi-value input (a list of text; ``[]`` when empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedValue(name, "a list of text", value)
    return value


def whole(value, name: str) -> int | None:
    """Return a whole number typed or picked (an int, an integral float or digits); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MalformedValue(name, "a whole number", value)
    if isinstance(value, float) and not value.is_integer():
        raise MalformedValue(name, "a whole number", value)
    try:
        return int(value)
    except (ValueError, OverflowError):
        raise MalformedValue(name, "a whole number", value) from None


def row_id(value, name: str) -> int | None:
    """Return the database id a picker holds (an int or its digits, 1..MAX_ID); None when empty."""
    number = whole(value, name)
    if number is not None and not 1 <= number <= MAX_ID:
        raise MalformedValue(name, f"an id between 1 and {MAX_ID}", value)
    return number


def records(value, name: str) -> list[dict]:
    """Return the rows a grid reports (``selectedRows``): a list of objects; ``[]`` when empty."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedValue(name, "a list of rows", value)
    return value
