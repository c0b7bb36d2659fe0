"""PostgreSQL backups with ``pg_dump --format=custom`` (compressed) and ``pg_restore``.

Row counts are read in a REPEATABLE READ transaction whose snapshot is exported and handed
to ``pg_dump --snapshot``, so the counts in the manifest describe exactly what the file
holds even while the app keeps writing.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine.backup.backend import BackupFailed
from engine.backup.snapshot import Snapshot, read_snapshot
from engine.storage.db import normalise_url

COMMAND_TIMEOUT_S = 3600
# A table entry of `pg_restore --list`: "215; 1259 16390 TABLE public users postgres".
_TABLE_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq URI without the password, and the environment carrying it (not argv)."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client program; return its standard output; raises BackupFailed."""
    try:
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=COMMAND_TIMEOUT_S)
    except FileNotFoundError as exc:
        raise BackupFailed(f"{args[0]} is not installed (needed for PostgreSQL backups)") from exc
    except subprocess.TimeoutExpired as exc:
        raise BackupFailed(f"{args[0]} did not finish within {COMMAND_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupFailed(f"{args[0]} failed: {lines[-1] if lines else f'exit {result.returncode}'}")
    return result.stdout


class PostgresBackend:
    """Backups of one PostgreSQL database; verification uses a temporary database beside it."""

    suffix = ".pgdump"

    def __init__(self, url: str):
        self.url = normalise_url(url)

    def dump(self, dest: Path) -> Snapshot:
        """Run ``pg_dump --format=custom`` on an exported snapshot that was counted first."""
        uri, env = _libpq(self.url)
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                exported = conn.scalar(text("SELECT pg_export_snapshot()"))
                snapshot = read_snapshot(conn)
                _run(["pg_dump", "--format=custom", "--compress=6", f"--snapshot={exported}",
                      f"--file={dest}", f"--dbname={uri}"], env)
                conn.rollback()
        finally:
            engine.dispose()
        return snapshot

    @contextmanager
    def scratch(self, archive: Path) -> Iterator[str]:
        """Create a temporary database, ``pg_restore`` into it, yield its URL, drop it.

        Needs the CREATEDB right for the app's database user.
        """
        name = f"wedscale_verify_{uuid.uuid4().hex[:12]}"
        scratch_url = make_url(self.url).set(database=name).render_as_string(hide_password=False)
        admin = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            admin.dispose()
            raise BackupFailed(f"cannot create a scratch database to verify in: {exc.__class__.__name__}") from exc
        try:
            uri, env = _libpq(scratch_url)
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={uri}", str(archive)], env)
            yield scratch_url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    def replace(self, archive: Path) -> None:
        """Make the live database hold exactly the dump, in one transaction.

        ``pg_restore --clean`` alone drops only the objects the dump has: a table added by a
        later migration would survive next to the restored ``alembic_version`` and break the
        next ``db upgrade``. So the script ``pg_restore`` writes is run by ``psql`` in one
        transaction, after dropping the tables the dump does not have.
        """
        uri, env = _libpq(self.url)
        extra = sorted(self._live_tables() - dump_tables(_run(["pg_restore", "--list", str(archive)], env)))
        psql = ["psql", "--single-transaction", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1",
                f"--dbname={uri}"]
        if extra:
            psql += ["-c", " ".join(f'DROP TABLE IF EXISTS public."{name}" CASCADE;' for name in extra)]
        # The whole script is written first: were pg_restore to stop half-way while psql read
        # from a pipe, psql would commit the half it had.
        with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".work-") as folder:
            script = Path(folder) / "restore.sql"
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  f"--file={script}", str(archive)], env)
            _run(psql + [f"--file={script}"], env)

    def _live_tables(self) -> set[str]:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names())
        finally:
            engine.dispose()


def dump_tables(listing: str) -> set[str]:
    """Return the public tables named in ``pg_restore --list`` output."""
    found = set()
    for line in listing.splitlines():
        match = _TABLE_ENTRY.match(line)
        if match and match.group(1) == "public":
            found.add(match.group(2))
    return found
