"""Turn the OpenAPI document into the rows the ``/api/docs`` page shows.

The page is rendered on the server from the same dict ``/api/openapi.json`` serves: no
Swagger UI bundle, no script, the console's Bootstrap CSS and dark theme. Schemas are
flattened into field rows (``alerts[].history[].ts``, ``services.*.ready``) so a request or
an answer reads as one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METHOD_ORDER = ("get", "post", "put", "patch", "delete")
MAX_DEPTH = 4


@dataclass(frozen=True)
class FieldRow:
    """One field or parameter: dotted name, type in words, required, description."""

    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Content:
    """A request or answer body: status (answers), media types, schema name, its field rows."""

    status: str
    media_types: tuple[str, ...]
    schema: str
    rows: tuple[FieldRow, ...]
    description: str = ""


@dataclass(frozen=True)
class OperationView:
    """One method on one path, ready for the template."""

    method: str
    path: str
    short_path: str
    anchor: str
    summary: str
    description: str
    permission: str | None
    parameters: tuple[FieldRow, ...]
    body: Content | None
    answers: tuple[Content, ...]
    errors: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Section:
    """The operations of one tag."""

    tag: str
    operations: tuple[OperationView, ...]


def reference_of(spec: dict) -> list[Section]:
    """Return the document's operations grouped by tag (tags sorted, then path and method)."""
    by_tag: dict[str, list[OperationView]] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHOD_ORDER:
            if method in item:
                view = _operation_view(spec, path, method, item[method])
                by_tag.setdefault((item[method].get("tags") or ["other"])[0], []).append(view)
    return [Section(tag, tuple(ops)) for tag, ops in sorted(by_tag.items())]


def _operation_view(spec: dict, path: str, method: str, op: dict) -> OperationView:
    parameters = tuple(FieldRow(f"{p['name']} ({p['in']})", type_text(spec, p.get("schema", {})),
                                bool(p.get("required")), p.get("description", "")
                                or p.get("schema", {}).get("description", ""))
                       for p in op.get("parameters", []))
    body = None
    if "requestBody" in op:
        body = _content(spec, "", "", op["requestBody"].get("content", {}))
    answers, errors = [], []
    for status, answer in sorted(op.get("responses", {}).items()):
        if "$ref" in answer:
            resolved = _resolve(spec, answer)
            errors.append((status, resolved.get("description", "")))
        else:
            answers.append(_content(spec, status, answer.get("description", ""),
                                    answer.get("content", {})))
    short = re.sub(r"\{[^}]*\}", "{…}", path.removeprefix("/api/").removeprefix("scalability/"))
    return OperationView(method.upper(), path, short, re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-"),
                         op.get("summary", ""), op.get("description", ""), op.get("x-permission"),
                         parameters, body, tuple(answers), tuple(errors))


def _content(spec: dict, status: str, description: str, content: dict) -> Content:
    media = tuple(content)
    schemas = [c.get("schema", {}) for c in content.values()]
    first = schemas[0] if schemas else {}
    rows: tuple[FieldRow, ...] = ()
    if _resolve(spec, first).get("type", "object") == "object" and "properties" in _resolve(spec, first):
        rows = tuple(field_rows(spec, first))
    names = {type_text(spec, s) for s in schemas}
    return Content(status, media, " | ".join(sorted(names)), rows, description)


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    if not ref.startswith("#/"):
        return schema
    node = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_text(spec: dict, schema: dict) -> str:
    """Return a schema's type in words: ``integer 1–500``, ``array of Alert``, ``one of csv, jsonl``."""
    name = _ref_name(schema)
    if name:
        return name
    if "oneOf" in schema:
        return " or ".join(type_text(spec, s) for s in schema["oneOf"])
    kind = schema.get("type", "any")
    if "enum" in schema:
        text = "one of " + ", ".join(str(v) for v in schema["enum"])
    elif kind == "array":
        text = "array of " + type_text(spec, schema.get("items", {}))
    elif kind == "object" and schema.get("additionalProperties"):  # {} (any values): "object"
        text = "map of " + type_text(spec, schema["additionalProperties"])
    else:
        text = kind + (f" ({schema['format']})" if "format" in schema else "")
    text += _bounds(schema.get("minimum"), schema.get("maximum"), "")
    text += _bounds(schema.get("minLength"), schema.get("maxLength"), "length ")
    if schema.get("nullable"):
        text += ", nullable"
    return text


def _bounds(low, high, label: str) -> str:
    if low is not None and high is not None:
        return f", {label}{_num(low)}–{_num(high)}"
    if low is not None:
        return f", {label}≥ {_num(low)}"
    return f", {label}≤ {_num(high)}" if high is not None else ""


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def field_rows(spec: dict, schema: dict, prefix: str = "", depth: int = 0) -> list[FieldRow]:
    """Return the fields of an object schema, nested objects as dotted rows (``a.b``, ``a[].b``)."""
    resolved = _resolve(spec, schema)
    required = set(resolved.get("required", []))
    rows = []
    for name, prop in resolved.get("properties", {}).items():
        full = f"{prefix}{name}"
        rows.append(FieldRow(full, type_text(spec, prop), name in required,
                             _resolve(spec, prop).get("description", "")))
        if depth < MAX_DEPTH:
            rows.extend(_nested_rows(spec, prop, full, depth + 1))
    return rows


def _nested_rows(spec: dict, prop: dict, full: str, depth: int) -> list[FieldRow]:
    resolved = _resolve(spec, prop)
    if "properties" in resolved:
        return field_rows(spec, resolved, f"{full}.", depth)
    if resolved.get("type") == "array":
        items = _resolve(spec, resolved.get("items", {}))
        return field_rows(spec, items, f"{full}[].", depth) if "properties" in items else []
    extra = resolved.get("additionalProperties")
    if isinstance(extra, dict) and "properties" in _resolve(spec, extra):
        return field_rows(spec, extra, f"{full}.*.", depth)
    return []
