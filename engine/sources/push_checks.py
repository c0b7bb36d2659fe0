"""Validation shared by the push parsers: problem bookkeeping and the checks every format needs.

Parsers turn their wire format into four columns (service, metric, ts in Unix seconds, value),
recording format-specific problems in a ``Findings``; ``checked_batch`` adds the common checks
(known names, the timestamp window, finite values) and either returns the ``SampleBatch`` or
raises one ``InvalidInput`` for the whole batch. See ``engine.sources.push`` for the rules.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Callable, Sequence

import numpy as np

from engine.errors import InvalidInput
from engine.sources.base import SampleBatch

MAX_SAMPLES = 10_000
MAX_FUTURE_S = 300.0
MAX_PAST_S = 7 * 86_400.0
MAX_REPORTED_PROBLEMS = 20

_FIELD_ORDER = ("sample", "line", "labels", "service", "metric", "ts", "value")


class TooManySamples(InvalidInput):
    """More than ``MAX_SAMPLES`` samples in one request: the route answers 413."""

    code = "payload_too_large"


class Missing:
    """Marks a field that is absent or null (``MISSING``) or not checked (``SKIPPED``)."""

    def __init__(self, label: str):
        self.label = label

    def __repr__(self) -> str:
        return self.label


MISSING = Missing("missing")
SKIPPED = Missing("skipped")  # the sample itself is malformed: its fields are not reported too


class Findings:
    """Problems of one batch, per field: a boolean mask and a describer for flagged indices.

    Masks are built vectorised; only the first ``MAX_REPORTED_PROBLEMS`` flagged cells are
    turned into text, so a batch of 10,000 bad samples costs no more than a good one.
    """

    def __init__(self, n: int):
        self.n = n
        self._checks: dict[str, list[tuple[np.ndarray, Callable[[int], str]]]] = {}

    def add(self, field: str, mask: np.ndarray, describe: Callable[[int], str]) -> None:
        """Record the samples flagged in ``mask`` as having a problem in ``field``, told by ``describe(i)``."""
        if mask.any():
            self._checks.setdefault(field, []).append((mask, describe))

    def mask(self, field: str) -> np.ndarray:
        """Return which samples already have a problem in ``field``."""
        out = np.zeros(self.n, dtype=bool)
        for mask, _ in self._checks.get(field, ()):
            out |= mask
        return out

    def malformed(self) -> np.ndarray:
        """Return which samples could not be read at all (their fields are not checked)."""
        return self.mask("sample") | self.mask("line")

    def raise_if_any(self, lines: Sequence[int] | None = None) -> None:
        """Raise ``InvalidInput`` describing the problems, if there are any."""
        if not self._checks:
            return
        fields = [f for f in _FIELD_ORDER if f in self._checks]
        matrix = np.stack([self.mask(f) for f in fields], axis=1)
        hits = np.argwhere(matrix)  # row-major: by sample, then field
        problems = []
        for i, k in hits[:MAX_REPORTED_PROBLEMS].tolist():
            describe = next(d for m, d in self._checks[fields[k]] if m[i])
            entry: dict[str, Any] = {"index": i, "field": fields[k], "problem": describe(i)}
            if lines is not None:
                entry["line"] = int(lines[i])
            problems.append(entry)
        n_bad = int(matrix.any(axis=1).sum())
        first = problems[0]
        where = f"sample {first['index']}" + (f" (line {first['line']})" if lines is not None else "")
        what = first["problem"] if first["field"] in ("sample", "line") else f"{first['field']} {first['problem']}"
        more = f" (and {len(hits) - 1} more problem(s) in {n_bad} sample(s))" if len(hits) > 1 else ""
        raise InvalidInput(f"{where}: {what}{more}; the whole batch was rejected",
                           {"problems": problems, "problem_count": int(len(hits)),
                            "invalid_sample_count": n_bad, "sample_count": self.n})


def checked_batch(findings: Findings, service: Sequence[Any], metric: Sequence[Any], ts_s: np.ndarray,
                  values: np.ndarray, services: Sequence[str], metrics: Sequence[str], now_s: float,
                  lines: Sequence[int] | None) -> SampleBatch:
    """Check names, timestamp window and finiteness; return the batch or raise for all problems."""
    service_names, metric_names = np.array(list(services), dtype=object), np.array(list(metrics), dtype=object)
    s_code = _name_codes(service, service_names, "service", findings)
    m_code = _name_codes(metric, metric_names, "metric", findings)
    _check_window(ts_s, now_s, findings)
    finite = np.isfinite(values) | findings.mask("value") | findings.malformed()
    findings.add("value", ~finite, lambda i: f"is not a finite number: {values[i]}")
    findings.raise_if_any(lines)
    return SampleBatch(service_names[s_code], metric_names[m_code], ts_s, values)


def _name_codes(column: Sequence[Any], known: np.ndarray, field: str, findings: Findings) -> np.ndarray:
    """Return the index of each name in ``known``; record unknown, missing or non-text names."""
    index = {name: i for i, name in enumerate(known)}
    try:
        codes = np.fromiter(map(index.get, column, repeat(-1)), dtype=np.int64, count=len(column))
    except TypeError:  # an unhashable item (a list or an object)
        codes = np.fromiter((index.get(x, -1) if isinstance(x, str) else -1 for x in column),
                            dtype=np.int64, count=len(column))
    bad = codes < 0
    if bad.any():
        skipped = np.fromiter((x is SKIPPED for x in column), dtype=bool, count=len(column))
        bad &= ~skipped

        def describe(i: int) -> str:
            item = column[i]
            if item is MISSING or item is None:
                return "is missing"
            if not isinstance(item, str):
                return f"must be text, got {kind(item)}"
            return f"{item[:60]!r} is unknown (expected one of: {', '.join(known)})"

        findings.add(field, bad, describe)
    return np.where(codes < 0, 0, codes)


def _check_window(ts_s: np.ndarray, now_s: float, findings: Findings) -> None:
    """Record timestamps that are not finite, too far ahead of or too far behind ``now_s``."""
    with np.errstate(invalid="ignore"):
        ok = (ts_s - now_s <= MAX_FUTURE_S) & (now_s - ts_s <= MAX_PAST_S)  # False for NaN
    bad = ~ok & ~findings.mask("ts") & ~findings.malformed()

    def describe(i: int) -> str:
        t = float(ts_s[i])
        if not np.isfinite(t):
            return f"is not a finite number: {t}"
        if t > now_s:
            hint = " (milliseconds sent as seconds?)" if t > 1e11 else ""
            return f"{t:.3f} is {t - now_s:.0f} s in the future; at most {MAX_FUTURE_S:.0f} s is accepted{hint}"
        return (f"{t:.3f} is {(now_s - t) / 86_400:.1f} days old; at most "
                f"{MAX_PAST_S / 86_400:.0f} days is accepted")

    findings.add("ts", bad, describe)


def kind(item: Any) -> str:
    """Return how to name the JSON type of ``item`` in a problem text."""
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(type(item), type(item).__name__)
