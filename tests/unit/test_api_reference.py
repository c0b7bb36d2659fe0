"""The docs page's view of an OpenAPI document: types in words, nested fields as dotted rows."""

from __future__ import annotations

import pytest

from app.api_reference import field_rows, reference_of, type_text

SPEC = {
    "openapi": "3.0.3",
    "components": {
        "schemas": {
            "Item": {"type": "object", "required": ["id"],
                     "properties": {"id": {"type": "integer"},
                                    "tags": {"type": "array", "items": {"type": "string"}}}},
            "Page": {"type": "object", "required": ["items"],
                     "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                                    "byName": {"type": "object",
                                               "additionalProperties": {"$ref": "#/components/schemas/Item"}}}},
        },
        "responses": {"Error404": {"description": "Nothing with that id."}},
    },
    "paths": {
        "/api/items/{item_id}": {
            "delete": {"tags": ["items"], "summary": "Delete one.", "x-permission": "items:write",
                       "parameters": [{"in": "path", "name": "item_id", "required": True,
                                       "schema": {"type": "integer", "minimum": 0}}],
                       "responses": {"200": {"description": "OK", "content": {
                           "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                                     "404": {"$ref": "#/components/responses/Error404"}}},
            "get": {"tags": ["items"], "summary": "One.", "responses": {"200": {"description": "OK"}}},
        },
        "/api/items": {"get": {"tags": ["items"], "summary": "Page.", "responses": {
            "200": {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}}}},
    },
}


@pytest.mark.parametrize("schema, text", [
    ({"type": "integer", "minimum": 1, "maximum": 500}, "integer, 1–500"),
    ({"type": "integer", "minimum": 0}, "integer, ≥ 0"),
    ({"type": "string", "minLength": 1}, "string, length ≥ 1"),
    ({"type": "string", "format": "date-time", "nullable": True}, "string (date-time), nullable"),
    ({"type": "string", "enum": ["csv", "jsonl"]}, "one of csv, jsonl"),
    ({"type": "array", "items": {"$ref": "#/components/schemas/Item"}}, "array of Item"),
    ({"type": "object", "additionalProperties": {"type": "number"}}, "map of number"),
    ({"type": "object", "additionalProperties": {}}, "object"),
    ({"oneOf": [{"type": "number"}, {"type": "string"}]}, "number or string"),
])
def test_type_text(schema, text):
    assert type_text(SPEC, schema) == text


def test_nested_fields_become_dotted_rows():
    rows = {r.name: r for r in field_rows(SPEC, {"$ref": "#/components/schemas/Page"})}
    assert list(rows) == ["items", "items[].id", "items[].tags", "byName", "byName.*.id", "byName.*.tags"]
    assert rows["items"].required and rows["items[].id"].required and not rows["byName"].required


def test_operations_grouped_in_method_order_with_errors_apart():
    [section] = reference_of(SPEC)
    assert section.tag == "items"
    assert [(op.method, op.path) for op in section.operations] == [
        ("GET", "/api/items"), ("GET", "/api/items/{item_id}"), ("DELETE", "/api/items/{item_id}")]
    delete = section.operations[2]
    assert delete.anchor == "delete-api-items-item-id" and delete.short_path == "items/{…}"
    assert delete.permission == "items:write"
    assert [a.status for a in delete.answers] == ["200"] and delete.answers[0].schema == "Item"
    assert delete.errors == (("404", "Nothing with that id."),)
    assert delete.parameters[0].name == "item_id (path)" and delete.parameters[0].type == "integer, ≥ 0"
