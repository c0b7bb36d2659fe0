"""One contract for every detector and forecaster (STYLE.md §5, scikit-learn manners).

Each entry says how to build the estimator with non-default parameters, how to teach it
(``fit`` or a stream of ``update`` calls) and how to read its output. The same checks run on
all: ``__init__`` stores the parameters as given and learns nothing; ``fit`` returns
``self`` and leaves learned state ending in ``_``; the same data gives the same output.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from engine.detect.anomaly import StreamingAnomalyDetector
from engine.forecast.model import LoadForecaster
from engine.scaling.replay_forecast import DemandForecaster

START = pd.Timestamp("2025-04-01")


def _hourly(days: int = 10, seed: int = 3) -> pd.Series:
    idx = pd.date_range(START, periods=24 * days, freq="h")
    rng = np.random.default_rng(seed)
    return pd.Series(500 + 200 * np.sin(2 * np.pi * idx.hour / 24) + rng.normal(0, 10, len(idx)), index=idx)


def _detector_output(det: StreamingAnomalyDetector, data: pd.Series) -> list[float]:
    return [det.update(t.timestamp(), v) for t, v in data.iloc[-24:].items()]


def _demand_teach(model: DemandForecaster, data: pd.Series) -> DemandForecaster:
    for value in data.to_numpy():
        model.update(float(value))
    return model


@dataclass(frozen=True)
class Case:
    """How to build, teach and read one estimator."""

    name: str
    build: Callable[[], Any]
    teach: Callable[[Any, pd.Series], Any]     # returns what fit returns
    output: Callable[[Any, pd.Series], Any]
    has_fit: bool = True


CASES = [
    Case("StreamingAnomalyDetector", lambda: StreamingAnomalyDetector(threshold=3.5, warmup=48),
         lambda m, d: m.fit(d.iloc[:-24].reset_index().set_axis(["timestamp", "value"], axis=1)),
         _detector_output),
    Case("LoadForecaster", lambda: LoadForecaster(half_life_days=14.0, calibration_days=3),
         lambda m, d: m.fit(d), lambda m, d: m.predict(d.index[-1] + pd.Timedelta(hours=1), 24)),
    Case("DemandForecaster", lambda: DemandForecaster(quantile=0.9, calibration_samples=120),
         _demand_teach, lambda m, d: m.forecast(30), has_fit=False),
]
IDS = [c.name for c in CASES]


def _init_params(model) -> dict:
    return {p: getattr(model, p) for p in inspect.signature(type(model).__init__).parameters if p != "self"}


def _learned(model) -> list[str]:
    return sorted(k for k in vars(model) if k.endswith("_") and not k.startswith("__"))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_init_stores_parameters_as_given_and_learns_nothing(case):
    model = case.build()
    signature = inspect.signature(type(model).__init__)
    stored = _init_params(model)        # every parameter is an attribute of the same name
    assert set(stored) == {p for p in signature.parameters if p != "self"}
    assert _learned(model) == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fit_returns_self_and_learns_state_ending_in_underscore(case):
    model = case.build()
    before = dict(_init_params(model))
    returned = case.teach(model, _hourly())
    if case.has_fit:
        assert returned is model
    assert _learned(model) != []
    assert _init_params(model) == before   # learning never rewrites a parameter


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_data_same_output(case):
    data = _hourly()
    first, second = case.build(), case.build()
    case.teach(first, data)
    case.teach(second, data.copy())
    a, b = case.output(first, data), case.output(second, data)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    else:
        assert a == b
