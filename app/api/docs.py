"""How an API route is documented: one ``@documented(...)`` right under its ``@bp.<method>(...)``.

``GET /api/openapi.json`` (built by ``app/openapi.py``) contains exactly the ``/api`` routes
carrying this decorator; ``tests/integration/test_openapi.py`` fails for any ``/api`` rule of
the url_map that is missing from it. To document a new route::

    from app.api import bp, schemas
    from app.api.docs import documented

    @bp.post("/scalability/predictions")
    @documented(Permission.FORECASTS_READ, body=schemas.PredictionBodySchema,
                responses={201: schemas.PredictionSchema}, errors=(404,))
    def create_prediction():
        \"\"\"Forecast the next hours per service.     <- the first line is the summary

        Further lines become the description.
        \"\"\"

1. Add the marshmallow schemas of the body, the query string and the answer to
   ``app/api/schemas.py``. Answers: every field the handler returns (an undeclared one fails
   the fuzz test: schemas are ``additionalProperties: false``), ``required=True`` for fields
   always there, ``allow_none=True`` for those that may be ``null``. Request bodies subclass
   ``BodySchema`` when the handler ignores unknown fields. Schemas only document: keep
   validating in the handler (``app/api/params.py``, engine services raising ``InvalidInput``
   naming the field).
2. Put ``@documented`` under the route decorator: the permission the handler checks with
   ``require``; ``query=`` (a schema whose fields are the query parameters); ``body=`` (a
   schema, sent as JSON, or ``{media type: schema or JSON-schema dict}``); ``responses=``
   (status -> schema; ``{media type: ...}`` for non-JSON answers; ``None`` for no body).
3. Errors come for free as ``{error, message, details}``: 401, 403 and 429 on every route,
   404 when the path has parameters, 422 with a query or a body, 413 with a body. Name any
   other one in ``errors=`` (409 when the request can clash with the current state, 415, ...).
4. Path parameters come from the rule (``<int:id>``: an integer 0 to 2**31 - 1; larger is 404).
   As for every route, add it to ``tests/integration/test_access.py`` and ``app/limits.py``.
   Then run ``test_openapi.py`` and ``test_openapi_fuzz.py`` (schemathesis: no 5xx, every
   answer matches its schema and documented statuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from engine.security.permissions import Permission

ATTRIBUTE = "openapi_operation"


@dataclass(frozen=True)
class Operation:
    """What the spec says about one view: permission, inputs, answers, extra error codes."""

    permission: Permission | None
    responses: dict[int, Any]
    query: Any = None
    body: Any = None
    errors: tuple[int, ...] = ()
    tag: str | None = None


def documented(permission: Permission | None, *, responses: dict[int, Any], query: Any = None,
               body: Any = None, errors: tuple[int, ...] = (), tag: str | None = None) -> Callable:
    """Attach an ``Operation`` to a view function (returns the same function).

    ``permission`` is what the handler requires (``None``: any signed-in principal); ``tag``
    defaults to the view's module name. Summary and description are the view's docstring.
    """

    def attach(view: Callable) -> Callable:
        setattr(view, ATTRIBUTE, Operation(permission, dict(responses), query, body,
                                           tuple(errors), tag))
        return view

    return attach


def operation_of(view: Callable) -> Operation | None:
    """Return the ``Operation`` of a view, looking through wrappers (rate limits, ...)."""
    while view is not None:
        found = getattr(view, ATTRIBUTE, None)
        if found is not None:
            return found
        view = getattr(view, "__wrapped__", None)
    return None
