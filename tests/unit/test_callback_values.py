"""Reading callback inputs: what the components send is read, anything else is MalformedValue."""

from __future__ import annotations

import pytest

from app.callback_values import MAX_ID, MalformedValue, records, row_id, text, texts, whole


@pytest.mark.parametrize("read, value, expected", [
    (text, None, ""), (text, "a b", "a b"),
    (texts, None, []), (texts, ["api", "database"], ["api", "database"]),
    (whole, None, None), (whole, "", None), (whole, 3, 3), (whole, 3.0, 3), (whole, "12", 12),
    (row_id, "7", 7), (row_id, MAX_ID, MAX_ID), (row_id, None, None),
    (records, None, []), (records, [{"id": 1}], [{"id": 1}]),
])
def test_values_the_components_send(read, value, expected):
    assert read(value, "field") == expected


@pytest.mark.parametrize("read, value", [
    (text, 3), (text, ["a"]), (text, {"a": 1}), (text, True),
    (texts, "api"), (texts, [1]), (texts, {"a": 1}),
    (whole, True), (whole, 1.5), (whole, [1]), (whole, "x"), (whole, float("inf")), (whole, float("nan")),
    (row_id, 0), (row_id, -1), (row_id, MAX_ID + 1), (row_id, 10**20), (row_id, "1e3"),
    (records, {"id": 1}), (records, [1]), (records, "rows"),
])
def test_anything_else_is_malformed(read, value):
    with pytest.raises(MalformedValue, match="^field must be "):
        read(value, "field")
    assert issubclass(MalformedValue, ValueError)  # what guarded answers with 400
