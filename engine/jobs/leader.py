"""Leader election: exactly one process runs the engine jobs.

SQLite deployments are single-host: a non-blocking ``flock`` on ``var/engine.lock``.
PostgreSQL deployments may span hosts: a session advisory lock held on a dedicated
autocommit connection (never a pooled one: a pool would hand the lock's connection back or
recycle it and lose the lock silently).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Protocol

ADVISORY_LOCK_KEY = 0x57_45_44_53  # "WEDS"


class LeaderLock(Protocol):
    """A lock at most one process holds."""

    def try_acquire(self) -> bool:
        """Take the lock without waiting; True when this process now holds it."""
        ...

    def holds(self) -> bool:
        """True while this process still holds the lock (used as a fence before each job)."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...


class FileLeaderLock:
    """``flock`` on a file: freed by the kernel when the holder dies. Same host only."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # opened after fork, per process
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holds(self) -> bool:
        # A flock cannot be lost while the process and the descriptor live.
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a dedicated psycopg connection, with an ownership check."""

    def __init__(self, dsn: str, key: int = ADVISORY_LOCK_KEY):
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self.key = key
        self._conn = None
        self._lock = threading.Lock()  # the elector and the job fence share the connection

    def _connect(self):
        import psycopg

        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=3,
                               application_name=f"wedscale-leader-{os.getpid()}",
                               keepalives=1, keepalives_idle=5, keepalives_interval=2,
                               keepalives_count=2)

    def try_acquire(self) -> bool:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    # A new connection never owns the old lock: start from scratch.
                    self._conn = self._connect()
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                return bool(row and row[0])
            except Exception:
                self._close()
                return False

    def holds(self) -> bool:
        with self._lock:
            if self._conn is None or self._conn.closed:
                return False
            try:
                row = self._conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = %s AND pid = pg_backend_pid() AND granted)",
                    (self.key & 0xFFFFFFFF,),
                ).fetchone()
                return bool(row and row[0])
            except Exception:
                self._close()
                return False

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def release(self) -> None:
        with self._lock:
            self._close()  # closing the session frees its advisory locks


def leader_lock_for(database_url: str, var_dir: Path) -> LeaderLock:
    """Return the lock that fits the database: advisory lock on PostgreSQL, flock otherwise."""
    if database_url.startswith("postgresql"):
        return PostgresLeaderLock(database_url)
    return FileLeaderLock(Path(var_dir) / "engine.lock")
