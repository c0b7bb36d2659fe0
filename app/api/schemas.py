"""Marshmallow schemas of the API's bodies, query strings and answers, for the OpenAPI spec.

They document what the handlers accept and return; the handlers keep their own validation
(422 naming the field), so a schema here never rejects a request by itself. Field names are
the JSON names (camelCase where the API uses it). Answers declare every field they always
carry as ``required`` and every field that may be ``null`` as ``allow_none``, so the
schemathesis test (tests/integration/test_openapi_fuzz.py) catches a handler that drifts.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

from engine.forecast.requests import MAX_HORIZON_HOURS
from engine.scaling.manual import ACTIONS, MAX_REASON, URGENCIES
from engine.services import METRIC_IDS
from engine.wedding_book import MAX_GUESTS, MAX_NAME

_req = {"required": True}
_iso = {"metadata": {"format": "date-time", "description": "ISO 8601 with zone"}}


def _described(text: str, **extra) -> dict:
    return {"metadata": {"description": text, **extra}}


# ---------------------------------------------------------------------------------- shared
class BodySchema(Schema):
    """A request body whose handler ignores fields it does not know (additionalProperties open).

    Other schemas keep marshmallow's default ``unknown = RAISE``, which apispec writes as
    ``additionalProperties: false``: an answer with an undocumented field fails the fuzz test.
    """

    class Meta:
        unknown = EXCLUDE


class ErrorSchema(Schema):
    """Every error under ``/api``: a stable code, one line for people, machine details."""

    error = fields.String(**_req, **_described("machine-readable code, e.g. invalid_input"))
    message = fields.String(**_req, **_described("one line for people"))
    details = fields.Dict(**_req, **_described("e.g. {\"field\": \"reason\"} naming the bad input"))


class WeddingSummarySchema(Schema):
    """A wedding as the monitoring reads show it (UTC times)."""

    id = fields.Integer(**_req)
    name = fields.String(**_req)
    ceremonyStart = fields.String(**_req, **_iso)
    receptionStart = fields.String(**_req, **_iso)
    receptionEnd = fields.String(**_req, **_iso)
    windowStart = fields.String(**_req, **_iso)
    windowEnd = fields.String(**_req, **_iso)
    guestCount = fields.Integer(**_req)
    priority = fields.Boolean(**_req)
    large = fields.Boolean(**_req, **_described("≥ 150 guests or the priority flag"))


class WeddingContextSchema(Schema):
    """Weddings in their window now, and the next three."""

    active = fields.List(fields.Nested(WeddingSummarySchema), **_req)
    next = fields.List(fields.Nested(WeddingSummarySchema), **_req)


# ---------------------------------------------------------------------------------- monitoring
class RealtimeQuerySchema(Schema):
    services = fields.String(**_described("comma-separated service ids (default: all)"))
    metrics = fields.String(**_described(f"comma-separated metric ids of {', '.join(METRIC_IDS)} "
                                         "(default: all)"))
    since = fields.Float(**_described("Unix seconds (default: 15 minutes ago)"))
    includeWeddingContext = fields.Boolean(**_described("add the active and next weddings"))


class SeriesSchema(Schema):
    points = fields.List(fields.List(fields.Float(), validate=validate.Length(equal=2)), **_req,
                         **_described("[ts (Unix seconds), value] pairs, oldest first, ≤ 2000"))


class ServiceMetricsSchema(Schema):
    latest = fields.Dict(keys=fields.String(), values=fields.Float(), **_req,
                         **_described("metric id → newest value"))
    series = fields.Dict(keys=fields.String(), values=fields.Nested(SeriesSchema), **_req)


class RealtimeSchema(Schema):
    now = fields.Float(**_req, **_described("Unix seconds"))
    since = fields.Float(**_req, **_described("Unix seconds"))
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceMetricsSchema), **_req)
    dataAgeSeconds = fields.Float(**_req, allow_none=True,
                                  **_described("seconds since the newest sample; null before the first"))
    weddingContext = fields.Nested(WeddingContextSchema)


class StatusQuerySchema(Schema):
    includeWeddingContext = fields.Boolean()
    includeDatabase = fields.Boolean()


class ServiceStatusSchema(Schema):
    ready = fields.Integer(**_req)
    pending = fields.Integer(**_req)
    target = fields.Integer(**_req)
    min = fields.Integer(**_req)
    max = fields.Integer(**_req)
    critical = fields.Boolean(**_req, **_described("wedding-critical service"))
    autoscalerMode = fields.String(**_req)


class DatabaseStatusSchema(Schema):
    dialect = fields.String(**_req)


class StatusSchema(Schema):
    now = fields.String(**_req, **_iso)
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceStatusSchema), **_req)
    weddingContext = fields.Nested(WeddingContextSchema)
    database = fields.Nested(DatabaseStatusSchema)


# ---------------------------------------------------------------------------------- metric push
class SampleSchema(Schema):
    service = fields.String(**_req)
    metric = fields.String(**_req, validate=validate.OneOf(METRIC_IDS))
    ts = fields.Raw(**_req, metadata={"description": "Unix seconds, or ISO 8601 with zone",
                                      "oneOf": [{"type": "number"}, {"type": "string"}]})
    value = fields.Float(**_req)


class PushBodySchema(BodySchema):
    samples = fields.List(fields.Nested(SampleSchema), **_req, validate=validate.Length(max=10_000),
                          **_described("at most 10,000 (413 above); a bare JSON list is accepted too"))


class PushResultSchema(Schema):
    accepted = fields.Integer(**_req)
    stored = fields.Integer(**_req)


# ---------------------------------------------------------------------------------- alerts
class AlertsQuerySchema(Schema):
    open = fields.Boolean(**_described("only open alerts"))
    history = fields.Boolean(**_described("add each alert's transitions"))


class AlertEventSchema(Schema):
    ts = fields.String(**_req, **_iso)
    from_ = fields.String(data_key="from", **_req)
    to = fields.String(**_req)
    actor = fields.String(**_req)
    note = fields.String(**_req)


class AlertSchema(Schema):
    id = fields.Integer(**_req)
    service = fields.String(**_req)
    metric = fields.String(**_req)
    severity = fields.String(**_req)
    state = fields.String(**_req, **_described("pending, firing, acknowledged, silenced or resolved"))
    summary = fields.String(**_req)
    value = fields.Float(**_req, allow_none=True)
    threshold = fields.Float(**_req, allow_none=True)
    startedAt = fields.String(**_req, **_iso)
    firedAt = fields.String(**_req, allow_none=True, **_iso)
    acknowledgedBy = fields.String(**_req, allow_none=True)
    acknowledgedAt = fields.String(**_req, allow_none=True, **_iso)
    note = fields.String(**_req)
    silencedUntil = fields.String(**_req, allow_none=True, **_iso)
    resolvedAt = fields.String(**_req, allow_none=True, **_iso)
    updatedAt = fields.String(**_req, **_iso)
    history = fields.List(fields.Nested(AlertEventSchema), **_described("with history=true"))


class AlertListSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema), **_req)


class AckBodySchema(BodySchema):
    note = fields.String(**_described("optional note"))


class SilenceBodySchema(BodySchema):
    minutes = fields.Float(**_req, validate=validate.Range(min=1, max=1440))
    reason = fields.String(**_req, validate=validate.Length(min=1))


# ---------------------------------------------------------------------------------- scaling
class ScaleBodySchema(BodySchema):
    action = fields.String(**_req, validate=validate.OneOf(ACTIONS),
                           **_described("emergency_scale needs scale:emergency"))
    services = fields.List(fields.String(), **_req, validate=validate.Length(min=1, max=20),
                           **_described("service ids; a comma-separated string is accepted too"))
    instances = fields.Integer(allow_none=True, validate=validate.Range(min=0),
                               **_described("new total for set/emergency_scale; step size for "
                                            "scale_up/scale_down (default: one standard step)"))
    reason = fields.String(**_req, validate=validate.Length(min=1, max=MAX_REASON))
    urgency = fields.String(validate=validate.OneOf(URGENCIES), load_default="medium")
    pin_minutes = fields.Float(allow_none=True, validate=validate.Range(min=0),
                               **_described("keep the autoscaler off the service for this long"))


class OrderSchema(Schema):
    """An order sent (or to be sent) to the actuator; ``orderId`` makes a retry idempotent."""

    orderId = fields.String(**_req)
    decision = fields.Integer(**_req, allow_none=True)
    service = fields.String(**_req)
    kind = fields.String(**_req)
    target = fields.Integer(**_req)
    rollbackTo = fields.Integer(**_req, allow_none=True)
    status = fields.String(**_req)
    attempts = fields.Integer(**_req)
    createdAt = fields.String(**_req, **_iso)
    deadlineAt = fields.String(**_req, **_iso)
    lastError = fields.String(**_req, allow_none=True)


class DecisionSchema(Schema):
    id = fields.Integer(**_req)
    createdAt = fields.String(**_req, **_iso)
    service = fields.String(**_req)
    from_ = fields.Integer(data_key="from", **_req, **_described("instances before"))
    to = fields.Integer(**_req, **_described("instances after"))
    trigger = fields.String(**_req)
    category = fields.String(**_req)
    status = fields.String(**_req)
    reason = fields.String(**_req)
    inputs = fields.Dict(**_req, **_described("the metrics and limits the decision saw"))
    confidence = fields.Float(**_req)
    costPerHour = fields.Float(**_req)
    rollbackTo = fields.Integer(**_req)
    actor = fields.String(**_req)
    orderId = fields.String(**_req, allow_none=True)
    order = fields.Nested(OrderSchema, **_req, allow_none=True, **_described("the newest order"))
    expiresAt = fields.String(**_iso)


class DecisionListSchema(Schema):
    decisions = fields.List(fields.Nested(DecisionSchema), **_req)


class DecisionsQuerySchema(Schema):
    service = fields.String()
    status = fields.String()
    trigger = fields.String(validate=validate.OneOf(
        ["reactive", "predictive", "prescale", "emergency", "manual"]))
    category = fields.String(validate=validate.OneOf(["auto_approved", "requires_approval", "emergency"]))
    since = fields.Float(validate=validate.Range(min=0, max=253402300799), **_described("Unix seconds"))
    limit = fields.Integer(validate=validate.Range(min=1, max=500), load_default=100)


class PinReleaseSchema(Schema):
    service = fields.String(**_req)
    released = fields.Integer(**_req, **_described("pins ended: 0 when the service was not pinned"))


class ReasonBodySchema(BodySchema):
    reason = fields.String(**_req, validate=validate.Length(min=1))


class BreakglassBodySchema(BodySchema):
    minutes = fields.Float(validate=validate.Range(min=1, max=60), load_default=60)
    reason = fields.String(**_req, validate=validate.Length(min=1))


class GrantSchema(Schema):
    id = fields.Integer(**_req)
    reason = fields.String(**_req)
    startedAt = fields.String(**_req, **_iso)
    expiresAt = fields.String(**_req, **_iso)
    revokedAt = fields.String(**_req, allow_none=True, **_iso)
    revokedBy = fields.String(**_req, allow_none=True)


# ---------------------------------------------------------------------------------- weddings
class WeddingsQuerySchema(Schema):
    from_ = fields.Date(data_key="from", **_described("first day (default: yesterday)"))
    to = fields.Date(**_described("day after the last (default: in 60 days)"))
    includeCancelled = fields.Boolean()


class WeddingBodySchema(Schema):
    class Meta:
        unknown = RAISE  # the handler refuses unknown fields (422): additionalProperties false

    name = fields.String(**_req, validate=validate.Length(min=1, max=MAX_NAME))
    date = fields.Date(**_req, **_described("YYYY-MM-DD, the ceremony's local date"))
    timezone = fields.String(**_req, **_described("IANA zone of the venue, e.g. Europe/Paris"))
    ceremonyStart = fields.String(**_req, **_described("local time, e.g. 14:30"))
    receptionStart = fields.String(**_req, **_described("local time, not before the ceremony"))
    receptionEnd = fields.String(**_req, **_described("local time; earlier than the start means "
                                                     "the next day"))
    guestCount = fields.Integer(**_req, validate=validate.Range(min=1, max=MAX_GUESTS))
    services = fields.List(fields.String())
    priority = fields.Boolean()


class WeddingSchema(Schema):
    id = fields.Integer(**_req)
    name = fields.String(**_req)
    timezone = fields.String(**_req)
    ceremonyStart = fields.String(**_req, **_iso)
    receptionStart = fields.String(**_req, **_iso)
    receptionEnd = fields.String(**_req, **_iso)
    guestCount = fields.Integer(**_req)
    services = fields.List(fields.String(), **_req)
    priority = fields.Boolean(**_req)
    cancelled = fields.Boolean(**_req)


class WeddingListSchema(Schema):
    weddings = fields.List(fields.Nested(WeddingSchema), **_req)


# ---------------------------------------------------------------------------------- audit
class AuditQuerySchema(Schema):
    actor = fields.String()
    action = fields.String()
    outcome = fields.String()
    text = fields.String(**_described("substring of target, reason or details"))
    offset = fields.Integer(validate=validate.Range(min=0, max=2**31 - 1), load_default=0)
    limit = fields.Integer(validate=validate.Range(min=1, max=500), load_default=50)


class AuditExportQuerySchema(Schema):
    format = fields.String(validate=validate.OneOf(["csv", "jsonl"]), load_default="csv")
    actor = fields.String()
    action = fields.String()
    outcome = fields.String()
    text = fields.String()


class AuditRowSchema(Schema):
    id = fields.Integer(**_req)
    ts = fields.String(**_req, **_iso)
    actor = fields.String(**_req)
    role = fields.String(**_req)
    action = fields.String(**_req)
    target = fields.String(**_req)
    reason = fields.String(**_req)
    outcome = fields.String(**_req)
    source_ip = fields.String(**_req)
    details = fields.String(**_req, **_described("JSON text, as chained"))
    prev_hash = fields.String(**_req)
    hash = fields.String(**_req)


class AuditPageSchema(Schema):
    total = fields.Integer(**_req)
    rows = fields.List(fields.Nested(AuditRowSchema), **_req)


# ---------------------------------------------------------------------------------- forecasts
class PredictionBodySchema(Schema):
    """What to forecast; the handler refuses unknown fields (422 naming the first)."""

    timeHorizonHours = fields.Integer(validate=validate.Range(min=1, max=MAX_HORIZON_HOURS), load_default=24)
    includeWeddingContext = fields.Boolean(load_default=True)
    includeCostEstimates = fields.Boolean(load_default=True)
    weddingId = fields.Integer(allow_none=True, validate=validate.Range(min=1),
                               **_described("forecast this wedding's day instead of the next hours"))
    services = fields.List(fields.String(), allow_none=True, **_described("default: every service"))
    start = fields.String(allow_none=True, **_described("first hour, ISO 8601 with zone (default: the next hour)",
                                                         format="date-time"))


class OpenSchema(Schema):
    """An answer whose nested shape is documented in words (it grows with the forecast model)."""

    class Meta:
        unknown = INCLUDE


class PredictionSchema(OpenSchema):
    id = fields.Integer(**_req, **_described("read it again at /api/scalability/predictions/{id}"))


class AccuracySchema(Schema):
    services = fields.Dict(keys=fields.String(), values=fields.Dict(), **_req,
                           **_described("per service: mape, coverage (p10–p90), n hours compared, reliable"))


class ImportReportSchema(Schema):
    rows = fields.Integer(**_req)
    valid = fields.Integer(**_req)
    created = fields.Integer(**_req)
    createdIds = fields.List(fields.Integer(), **_req)
    stored = fields.Boolean(**_req)
    errors = fields.List(fields.Dict(), **_req, **_described("row, field, message per problem"))


class ImportQuerySchema(Schema):
    mode = fields.String(validate=validate.OneOf(["all_or_nothing", "valid_only"]), load_default="all_or_nothing")


class IcsQuerySchema(Schema):
    includeCancelled = fields.Boolean(load_default=False)


class PrescaleBodySchema(BodySchema):
    note = fields.String(**_described("why, for the operators who approve it"))
