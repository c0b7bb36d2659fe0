"""Plotly figures as plain functions: data in, ``go.Figure`` out (tested without a browser).

The live page's figures are in ``app/figures_live.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

import numpy as np


def to_datetimes(ts: Sequence[float] | np.ndarray) -> list[datetime]:
    """Return Unix seconds as aware UTC datetimes (what Plotly draws on a date axis)."""
    return [datetime.fromtimestamp(float(t), tz=timezone.utc) for t in ts]
