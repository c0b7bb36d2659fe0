"""Timestamp normalisation for the detectors: everything becomes Unix seconds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np


def to_epoch_seconds(timestamp: Any) -> float:
    """Return ``timestamp`` as Unix seconds.

    Accepts numbers (already seconds), ``datetime`` / ``pandas.Timestamp``,
    ``numpy.datetime64`` and ISO 8601 strings. Naive times are read as UTC.

    Raises
    ------
    ValueError
        If the timestamp cannot be understood.
    """
    if isinstance(timestamp, (int, float, np.integer, np.floating)) and not isinstance(timestamp, bool):
        return float(timestamp)
    if isinstance(timestamp, np.datetime64):
        return float(timestamp.astype("datetime64[us]").astype(np.int64)) / 1e6
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 timestamp: {timestamp!r}") from exc
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=timezone.utc)
        return timestamp.timestamp()
    raise ValueError(f"not a timestamp: {timestamp!r}")
