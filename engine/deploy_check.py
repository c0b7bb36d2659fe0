"""``wedscale check --deploy`` as a pure function: settings and observed facts in, findings out.

The CLI gathers the facts (worker count, whether the schema is current, whether Redis answers,
whether the backup folder is writable); everything here is a decision about values, so each
rule is tested with a table.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from engine.settings import INSECURE_DEFAULT_SECRET, Settings

OK, WARN, FAIL = "OK", "WARN", "FAIL"
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 128.0
_NEW_KEY = "export WEDSCALE_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"


@dataclass(frozen=True)
class Finding:
    """One checked rule: OK / WARN / FAIL, what was found and how to fix it."""

    level: str
    topic: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class DeployFacts:
    """What the CLI observed about the environment the settings will run in.

    Parameters
    ----------
    workers : int
        gunicorn workers (``WEB_CONCURRENCY`` or ``gunicorn.conf.py``).
    secret_from_env : bool
        ``WEDSCALE_SECRET_KEY`` is set (not read from the demo key file).
    demo_secret : str or None
        The content of ``var/secret_key`` when that demo file exists.
    schema_current : bool or None
        The database is at the newest migration; None when it could not be reached.
    database_error : str
        Why the database could not be reached ("" when it could).
    redis_reachable : bool or None
        Redis answered a PING; None when no Redis is configured.
    backup_dir : str
        Where backups go.
    backup_dir_writable : bool
        A file could be created there.
    missing_tools : tuple of str
        PostgreSQL client programs backups need that are not on PATH.
    can_create_database : bool or None
        The database user may create the scratch databases verification restores into
        (None: not PostgreSQL, or not known).
    """

    workers: int
    secret_from_env: bool
    demo_secret: str | None
    schema_current: bool | None
    database_error: str
    redis_reachable: bool | None
    backup_dir: str
    backup_dir_writable: bool
    missing_tools: tuple[str, ...] = ()
    can_create_database: bool | None = None


def secret_entropy_bits(key: str) -> float:
    """Return an estimate of ``key``'s entropy: its length times the Shannon entropy per character.

    An under-estimate for random keys over a large alphabet is fine: it is a floor that
    catches repeated, dictionary-like or short keys, not a proof of randomness.
    """
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def _secret(settings: Settings, facts: DeployFacts) -> Finding:
    key = settings.secret_key or ""
    topic = "secret key"
    if not facts.secret_from_env or key in ("", INSECURE_DEFAULT_SECRET):
        return Finding(FAIL, topic, "WEDSCALE_SECRET_KEY is not set", _NEW_KEY + "  (the same in every worker)")
    if facts.demo_secret is not None and key == facts.demo_secret:
        return Finding(FAIL, topic, "the key is the demo key generated into var/secret_key", _NEW_KEY)
    if len(key) < MIN_SECRET_CHARS:
        return Finding(FAIL, topic, f"the key has {len(key)} characters (need at least {MIN_SECRET_CHARS})", _NEW_KEY)
    bits = secret_entropy_bits(key)
    if bits < MIN_SECRET_BITS:
        return Finding(FAIL, topic, f"the key looks weak (about {bits:.0f} bits; need {MIN_SECRET_BITS:.0f})",
                       _NEW_KEY)
    return Finding(OK, topic, f"set from the environment, {len(key)} characters, about {bits:.0f} bits")


def _demo(settings: Settings) -> Finding:
    if settings.demo:
        return Finding(FAIL, "demo mode", "demo mode is on (demo users, banner, generated key)",
                       "unset WEDSCALE_DEMO and do not pass --demo")
    return Finding(OK, "demo mode", "off")


def _database(settings: Settings, facts: DeployFacts) -> Finding:
    if settings.is_sqlite and facts.workers > 1:
        return Finding(FAIL, "database", f"SQLite with {facts.workers} workers: one file cannot serve several "
                       "processes well and the leader lock is per host",
                       "set WEDSCALE_DATABASE_URL=postgresql://user@host/db (or WEB_CONCURRENCY=1)")
    if settings.is_sqlite:
        return Finding(WARN, "database", "SQLite: fine for one process on one host",
                       "use PostgreSQL (WEDSCALE_DATABASE_URL) for production")
    return Finding(OK, "database", "PostgreSQL")


def _migrations(facts: DeployFacts) -> Finding:
    if facts.schema_current is None:
        return Finding(FAIL, "migrations", f"database unreachable: {facts.database_error}",
                       "check WEDSCALE_DATABASE_URL and that the server accepts connections")
    if not facts.schema_current:
        return Finding(FAIL, "migrations", "the schema is not at the newest migration", "wedscale db upgrade")
    return Finding(OK, "migrations", "schema current")


def _redis(settings: Settings, facts: DeployFacts) -> Finding:
    if not settings.redis_url:
        if facts.workers > 1:
            return Finding(FAIL, "redis", f"no Redis with {facts.workers} workers: each worker would show its "
                           "own live data and count rate limits alone",
                           "set WEDSCALE_REDIS_URL=redis://host:6379/0")
        return Finding(OK, "redis", "not configured (one worker)")
    if not facts.redis_reachable:
        return Finding(FAIL, "redis", "WEDSCALE_REDIS_URL is set but Redis does not answer",
                       "check the URL and that Redis accepts connections")
    return Finding(OK, "redis", "reachable: live data and rate limits are shared by every worker")


def _cookies(settings: Settings) -> Finding:
    if not settings.session_cookie_secure:
        return Finding(FAIL, "cookies", "the session cookie is sent over plain HTTP",
                       "serve over HTTPS and unset WEDSCALE_SESSION_COOKIE_SECURE (default on) or set it to 1")
    return Finding(OK, "cookies", "HTTPS-only, HttpOnly, SameSite=Lax")


def _backups(settings: Settings, facts: DeployFacts) -> Finding:
    if not facts.backup_dir_writable:
        return Finding(FAIL, "backups", f"cannot write to {facts.backup_dir}",
                       "create it for the app's user or set WEDSCALE_BACKUP_DIR")
    if not settings.is_sqlite and facts.missing_tools:
        return Finding(FAIL, "backups", f"{', '.join(facts.missing_tools)} not found on PATH",
                       "install the PostgreSQL client programs of the server's major version")
    if facts.can_create_database is False:
        return Finding(WARN, "backups", "the database user cannot create databases: verification "
                       "(a restore into a scratch database) will fail",
                       "ALTER ROLE <user> CREATEDB, or verify backups elsewhere")
    return Finding(OK, "backups", f"{facts.backup_dir} is writable")


def _metrics(settings: Settings) -> Finding:
    if not settings.metrics_token:
        return Finding(WARN, "metrics", "/metrics is public", "set WEDSCALE_METRICS_TOKEN to require a bearer token")
    return Finding(OK, "metrics", "/metrics requires a bearer token")


def check_deployment(settings: Settings, facts: DeployFacts) -> list[Finding]:
    """Return one finding per rule, in a fixed order (secret, demo, database, migrations,
    Redis, cookies, backups, metrics)."""
    return [_secret(settings, facts), _demo(settings), _database(settings, facts), _migrations(facts),
            _redis(settings, facts), _cookies(settings), _backups(settings, facts), _metrics(settings)]


def has_failures(findings: list[Finding]) -> bool:
    """True when any finding is FAIL."""
    return any(f.level == FAIL for f in findings)
