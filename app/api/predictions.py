"""Forecasts: make and store a prediction, read a stored one, accuracy per service."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from app.access import require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import json_body
from engine.forecast.requests import parse_prediction_request
from engine.security.permissions import Permission


def _engine():
    return current_app.extensions["wedscale"]


@bp.post("/scalability/predictions")
@documented(Permission.FORECASTS_READ, body=schemas.PredictionBodySchema,
            responses={201: schemas.PredictionSchema}, errors=(404, 409))
def create_prediction():
    """Forecast the next ``timeHorizonHours`` hours (or one wedding's day); store and return it."""
    require(Permission.FORECASTS_READ)
    engine = _engine()
    prediction = parse_prediction_request(json_body(), engine.service_names())
    return jsonify(engine.forecasts.predict(prediction, current_user.username)), 201


@bp.get("/scalability/predictions/<int:prediction_id>")
@documented(Permission.FORECASTS_READ, responses={200: schemas.PredictionSchema})
def get_prediction(prediction_id: int):
    """A stored prediction, with its accuracy once its hours have passed."""
    require(Permission.FORECASTS_READ)
    return jsonify(_engine().forecasts.get(prediction_id))


@bp.get("/scalability/predictions/accuracy")
@documented(Permission.FORECASTS_READ, responses={200: schemas.AccuracySchema})
def prediction_accuracy():
    """MAPE and p10–p90 coverage per service over the last 7 days, and whether it is reliable."""
    require(Permission.FORECASTS_READ)
    engine = _engine()
    pooled = engine.forecasts.accuracy()
    return jsonify({"services": {name: {**(a.as_dict() if a else {"mape": None, "coverage": None, "n": 0}),
                                        "reliable": engine.forecast_is_reliable(name)}
                                 for name, a in pooled.items()}})
