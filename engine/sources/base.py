"""What a metric source hands to the engine: a columnar batch of samples, and the protocol.

A sample is ``(service, metric, ts, value)``: a service id (``"api"``), a metric id from
``engine.services.METRIC_IDS``, Unix seconds (float) and a float value. Batches are columns
of equal length so the store can aggregate a million samples without a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, Protocol, Sequence

import numpy as np

from engine.clock import to_epoch_s


def _strings(values: Any) -> np.ndarray:
    # Object arrays of Python str: cheap to build from lists, to repeat and to concatenate
    # (pointers, not 48-byte UCS-4 cells), and their items are plain ``str``.
    if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
        return values.ravel()
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _floats(values: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel())


@dataclass(frozen=True, eq=False)
class SampleBatch:
    """A column batch of metric samples; every column has the same length.

    Lists are accepted and normalised on construction: ``service`` and ``metric`` become
    numpy unicode arrays, ``ts`` and ``value`` contiguous float64 arrays. Order carries no
    meaning (stores sort what they need), but sources emit series-major order (one service
    and metric after another, by time), which is the cheapest order to ingest.

    Parameters
    ----------
    service : list of str or numpy.ndarray
        Service id of each sample.
    metric : list of str or numpy.ndarray
        Metric id of each sample.
    ts : numpy.ndarray
        Sample time, Unix seconds (float64).
    value : numpy.ndarray
        Sample value (float64), in the metric's unit.

    Raises
    ------
    ValueError
        When the columns differ in length.

    Notes
    -----
    Batches compare by identity (columns are arrays); compare ``rows()`` for equal content.
    """

    service: np.ndarray
    metric: np.ndarray
    ts: np.ndarray
    value: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "service", _strings(self.service))
        object.__setattr__(self, "metric", _strings(self.metric))
        object.__setattr__(self, "ts", _floats(self.ts))
        object.__setattr__(self, "value", _floats(self.value))
        lengths = {len(self.service), len(self.metric), len(self.ts), len(self.value)}
        if len(lengths) != 1:
            raise ValueError(f"SampleBatch columns differ in length: {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> SampleBatch:
        """Return a batch with no samples."""
        return cls([], [], np.empty(0), np.empty(0))

    @classmethod
    def concat(cls, batches: Iterable[SampleBatch]) -> SampleBatch:
        """Return one batch holding the samples of ``batches`` in order.

        Called on the class: ``SampleBatch.concat([a, b])``.
        """
        parts = [b for b in batches if len(b)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(np.concatenate([b.service for b in parts]),
                   np.concatenate([b.metric for b in parts]),
                   np.concatenate([b.ts for b in parts]),
                   np.concatenate([b.value for b in parts]))

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> SampleBatch:
        """Return a batch from rows ``(service, metric, ts, value)`` or mappings with those keys.

        ``ts`` may be Unix seconds or a ``datetime`` (naive = UTC).

        Raises
        ------
        ValueError
            When a row lacks a field or a value is not a number.
        """
        services, metrics, stamps, values = [], [], [], []
        for row in rows:
            if isinstance(row, Mapping):
                row = (row["service"], row["metric"], row["ts"], row["value"])
            service, metric, ts, value = row
            services.append(str(service))
            metrics.append(str(metric))
            stamps.append(to_epoch_s(ts) if isinstance(ts, datetime) else float(ts))
            values.append(float(value))
        return cls(services, metrics, np.asarray(stamps, dtype=np.float64),
                   np.asarray(values, dtype=np.float64))

    def rows(self) -> list[tuple[str, str, float, float]]:
        """Return the samples as ``(service, metric, ts, value)`` tuples (for tests and export)."""
        return [(str(s), str(m), float(t), float(v))
                for s, m, t, v in zip(self.service, self.metric, self.ts, self.value)]

    def select(self, service: str | None = None, metric: str | None = None) -> SampleBatch:
        """Return the samples of one service and/or metric, in their order."""
        keep = np.ones(len(self), dtype=bool)
        if service is not None:
            keep &= self.service == service
        if metric is not None:
            keep &= self.metric == metric
        return SampleBatch(self.service[keep], self.metric[keep], self.ts[keep], self.value[keep])


class MetricSource(Protocol):
    """Where samples come from: the simulator, Prometheus, the HTTP push buffer."""

    name: str

    def collect(self, now: datetime) -> SampleBatch:
        """Return the samples produced since the previous call, up to and including ``now``.

        Each sample is returned once. A stopped or unreachable source returns an empty batch
        (never raises for a transient outage), so the store's newest timestamp ages and the
        health check reports the source as stale.
        """
        ...
