"""Model versions: fitted forecasters stored in SQL, signed, so every worker forecasts alike.

The leader fits and records a version; a web worker loads the newest version of each
service instead of fitting its own, so "which model made which forecast" has one answer
across workers. The pickled model is signed with ``HMAC-SHA256`` under a key derived from the
secret key; a row whose signature does not match (written by someone with database access
only) is refused before it is unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.forecast.model import LoadForecaster
from engine.storage.models import ForecastModelRow

_KEY_LABEL = b"wedscale forecast models v1"


class TamperedModel(Exception):
    """A stored model's signature does not match its bytes."""


@dataclass(frozen=True)
class ModelVersion:
    """A fitted forecaster and the version row it came from."""

    id: int
    service: str
    metric: str
    trained_at: datetime
    history_end: datetime
    n_hours: int
    model: LoadForecaster


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _sign(secret_key: str, blob: bytes) -> str:
    return hmac.new(_key(secret_key), blob, hashlib.sha256).hexdigest()


def record_version(session: Session, secret_key: str, *, service: str, metric: str,
                   model: LoadForecaster, trained_at: datetime, history_start: datetime,
                   history_end: datetime, n_hours: int) -> ModelVersion:
    """Store a fitted model as a new version of (service, metric); return it with its id."""
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    row = ForecastModelRow(service=service, metric=metric, trained_at=trained_at,
                           history_start=history_start, history_end=history_end, n_hours=n_hours,
                           params=json.dumps(_params(model), sort_keys=True), blob=blob,
                           signature=_sign(secret_key, blob))
    session.add(row)
    session.flush()
    return ModelVersion(row.id, service, metric, trained_at, history_end, n_hours, model)


def _params(model: LoadForecaster) -> dict:
    return {k: v for k, v in vars(model).items() if not k.endswith("_")}


def latest_ids(session: Session, metric: str) -> dict[str, int]:
    """Return ``{service: newest version id}`` for ``metric``."""
    rows = session.execute(select(ForecastModelRow.service, func.max(ForecastModelRow.id))
                           .where(ForecastModelRow.metric == metric)
                           .group_by(ForecastModelRow.service))
    return {service: int(version) for service, version in rows}


def load_version(session: Session, secret_key: str, version_id: int) -> ModelVersion:
    """Return the stored version ``version_id``.

    Raises
    ------
    KeyError
        When there is no such version.
    TamperedModel
        When the stored bytes do not carry this deployment's signature.
    """
    row = session.get(ForecastModelRow, version_id)
    if row is None:
        raise KeyError(version_id)
    if not hmac.compare_digest(row.signature, _sign(secret_key, row.blob)):
        raise TamperedModel(f"forecast model {version_id} fails its signature check")
    model = pickle.loads(row.blob)  # noqa: S301 (signed above with our own key)
    return ModelVersion(row.id, row.service, row.metric, row.trained_at, row.history_end,
                        row.n_hours, model)
