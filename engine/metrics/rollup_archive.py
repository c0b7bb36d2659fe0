"""Rollup persistence: completed 1-minute and 1-hour buckets flushed to SQL, read back on start.

The in-process store forgets everything on a restart. The leader's ``flush_rollups`` job
writes every *completed* rollup bucket (the series already has a point after the bucket's
end) that is newer than what the table holds, and prunes buckets past their retention; a
starting process warms its store from the table before it backfills or collects, so charts
keep their history. Choices:

- a bucket is written once it is complete; a late sample merged into it afterwards updates
  the store but not the table (an upsert makes a re-flush after a leader handover harmless);
- 1-minute buckets are flushed reaching back at most ``minute_history_days`` on the first
  flush (a demo backfill of 90 days would otherwise write two million rows) and pruned
  after ``minute_keep_days``; hours are kept ``hour_keep_days``;
- any store with ``rollup`` and ``restore_rollups`` is flushed and warmed: the in-process
  ``RingBufferStore`` and ``RedisMetricStore``. The Redis store outlives a web process restart
  by itself; the archive is what brings its rollups back after Redis lost its data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Sequence

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.clock import to_epoch_s
from engine.config_model import RollupConfig
from engine.metrics.store import RESOLUTION_S
from engine.storage.models import MetricRollup

LEVELS = ("1m", "1h")
FIELDS = ("count", "mean", "min", "max", "p95")
DAY_S = 86_400.0
_CHUNK = 5_000


def supports_archive(store) -> bool:
    """True when ``store`` can be flushed and warmed (it serves full rollups)."""
    return hasattr(store, "rollup") and hasattr(store, "restore_rollups")


class RollupArchive:
    """Flushes completed rollups of ``services`` × ``metrics`` and warms a store from them.

    Parameters
    ----------
    services, metrics : sequence of str
        The series archived.
    config : RollupConfig
        History reach and retention.
    """

    def __init__(self, services: Sequence[str], metrics: Sequence[str], config: RollupConfig):
        self.services, self.metrics, self.config = list(services), list(metrics), config
        self._flushed: dict[tuple[str, str, str], float] | None = None  # newest bucket start in SQL

    # --- flush (leader job) ---------------------------------------------------------------
    def flush(self, db, store, now: datetime) -> int:
        """Write the completed buckets not yet in SQL, prune old ones; return rows written."""
        if not supports_archive(store):
            return 0
        now_s = to_epoch_s(now)
        if self._flushed is None:
            with db.session() as session:
                self._flushed = self._watermarks(session)
        rows = self._completed_rows(store, now_s)
        # Short transactions: the first flush after a demo backfill writes ~100k rows, and a
        # SQLite writer must not hold the file for seconds while web requests wait.
        for start in range(0, len(rows), _CHUNK):
            with db.session() as session:
                session.execute(_upsert(db.dialect), rows[start:start + _CHUNK])
        with db.session() as session:
            for resolution, keep_days in (("1m", self.config.minute_keep_days), ("1h", self.config.hour_keep_days)):
                session.execute(delete(MetricRollup).where(MetricRollup.resolution == resolution,
                                                           MetricRollup.bucket_ts < now_s - keep_days * DAY_S))
        for row in rows:
            key = (row["service"], row["metric"], row["resolution"])
            self._flushed[key] = max(self._flushed.get(key, -np.inf), row["bucket_ts"])
        return len(rows)

    def _completed_rows(self, store, now_s: float) -> list[dict]:
        rows = []
        reach = {"1m": self.config.minute_history_days * DAY_S, "1h": self.config.hour_keep_days * DAY_S}
        for service in self.services:
            newest = store.latest(service)
            for metric in self.metrics:
                if metric not in newest:
                    continue
                newest_point = newest[metric][0]
                for level in LEVELS:
                    step = RESOLUTION_S[level]
                    done = self._flushed.get((service, metric, level))
                    since = now_s - reach[level] if done is None else done + step
                    out = store.rollup(service, metric, level, since, newest_point - step)
                    complete = out["ts"] + step <= newest_point
                    for i in np.flatnonzero(complete & (out["count"] > 0)):
                        rows.append({"service": service, "metric": metric, "resolution": level,
                                     "bucket_ts": int(out["ts"][i]),
                                     **{f: float(out[f][i]) for f in FIELDS}})
        return rows

    def _watermarks(self, session) -> dict[tuple[str, str, str], float]:
        query = (select(MetricRollup.service, MetricRollup.metric, MetricRollup.resolution,
                        func.max(MetricRollup.bucket_ts))
                 .group_by(MetricRollup.service, MetricRollup.metric, MetricRollup.resolution))
        return {(s, m, r): float(ts) for s, m, r, ts in session.execute(query)}

    # --- warm (process start) -------------------------------------------------------------
    def restore(self, db, store, now: datetime) -> float | None:
        """Load the archived buckets into ``store``; return the end of the newest hour restored.

        Returns None when nothing was restored (empty table, or a store that keeps its own).
        """
        if not supports_archive(store):
            return None
        now_s = to_epoch_s(now)
        grouped: dict[tuple[str, str, str], list] = defaultdict(list)
        with db.session() as session:
            columns = [getattr(MetricRollup, c) for c in ("service", "metric", "resolution", "bucket_ts") + FIELDS]
            query = (select(*columns).where(MetricRollup.service.in_(self.services),
                                            MetricRollup.metric.in_(self.metrics),
                                            MetricRollup.bucket_ts <= now_s)
                     .order_by(MetricRollup.bucket_ts))
            for service, metric, level, *values in session.execute(query):
                grouped[(service, metric, level)].append(values)
        newest_hour_end = None
        self._flushed = {}
        for (service, metric, level), items in grouped.items():
            table = np.array(items, dtype=np.float64)
            store.restore_rollups(service, metric, level, table[:, 0],
                                  {f: table[:, i + 1] for i, f in enumerate(FIELDS)})
            self._flushed[(service, metric, level)] = float(table[-1, 0])
            if level == "1h":
                end = float(table[-1, 0]) + RESOLUTION_S["1h"]
                newest_hour_end = end if newest_hour_end is None else max(newest_hour_end, end)
        return newest_hour_end


def _upsert(dialect: str):
    """Return an INSERT … ON CONFLICT DO UPDATE for executemany (a re-flush is harmless)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(MetricRollup)
    return statement.on_conflict_do_update(
        index_elements=["service", "metric", "resolution", "bucket_ts"],
        set_={f: getattr(statement.excluded, f) for f in FIELDS})
