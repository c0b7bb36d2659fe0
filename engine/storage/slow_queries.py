"""The slowest SQL statements of this process, timed with SQLAlchemy cursor events.

Only the statement text is kept, normalised (whitespace collapsed, quoted strings and number
literals replaced by ``?``), never the parameters: they may hold password hashes, tokens or
personal data. One entry per normalised statement with its count, worst and total time; the
``keep`` slowest by worst time are kept.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from sqlalchemy import event

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$])-?\d+(?:\.\d+)?(?![\w$])")
_SPACE = re.compile(r"\s+")
MAX_TEXT = 500


def normalise_statement(statement: str) -> str:
    """Return ``statement`` with literals replaced by ``?`` and whitespace collapsed."""
    text = _STRING.sub("?", statement)
    text = _NUMBER.sub("?", text)
    return _SPACE.sub(" ", text).strip()[:MAX_TEXT]


@dataclass
class SlowQuery:
    """A normalised statement that ran over the threshold: how often, worst and total time."""

    statement: str
    count: int
    max_ms: float
    total_ms: float

    @property
    def mean_ms(self) -> float:
        """Mean time of the slow runs in milliseconds."""
        return self.total_ms / self.count


class SlowQueryLog:
    """Keeps the ``keep`` slowest statements over ``threshold_ms`` (thread-safe).

    Parameters
    ----------
    threshold_ms : float
        Statements faster than this are not kept.
    keep : int, default 20
        How many distinct statements to keep (the slowest by worst time).
    """

    def __init__(self, threshold_ms: float, keep: int = 20):
        self.threshold_ms = threshold_ms
        self.keep = keep
        self._entries: dict[str, SlowQuery] = {}
        self._lock = threading.Lock()

    def observe(self, statement: str, elapsed_ms: float) -> None:
        """Count one run of ``statement`` that took ``elapsed_ms``."""
        if elapsed_ms < self.threshold_ms:
            return
        key = normalise_statement(statement)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = SlowQuery(key, 0, 0.0, 0.0)
            entry.count += 1
            entry.total_ms += elapsed_ms
            entry.max_ms = max(entry.max_ms, elapsed_ms)
            if len(self._entries) > self.keep:
                fastest = min(self._entries.values(), key=lambda e: e.max_ms)
                del self._entries[fastest.statement]

    def slowest(self) -> list[SlowQuery]:
        """Return the kept statements, slowest first."""
        with self._lock:
            return sorted((SlowQuery(e.statement, e.count, e.max_ms, e.total_ms) for e in self._entries.values()),
                          key=lambda e: e.max_ms, reverse=True)

    def attach(self, sa_engine) -> None:
        """Time every statement ``sa_engine`` runs (cursor events; the start rides on the context)."""

        def _before(conn, cursor, statement, parameters, context, executemany):
            context._wedscale_started = time.perf_counter()

        def _after(conn, cursor, statement, parameters, context, executemany):
            started = getattr(context, "_wedscale_started", None)
            if started is not None:
                self.observe(statement, (time.perf_counter() - started) * 1000)

        event.listen(sa_engine, "before_cursor_execute", _before)
        event.listen(sa_engine, "after_cursor_execute", _after)
