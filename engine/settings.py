"""Settings read from the environment (twelve-factor) with the built-in defaults.

Only ``load_settings`` reads ``os.environ``; everything else receives a ``Settings`` value.
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from engine.config_model import ConfigError, FileConfig, rate_limit_problem
from engine.security.threats import ThreatThresholds

DEFAULT_VAR_DIR = Path("var")
SECRET_KEY_FILE = "secret_key"
# The placeholder a production deployment must replace; `serve` refuses it outside demo mode.
INSECURE_DEFAULT_SECRET = "change-me"


@dataclass(frozen=True)
class Settings:
    """Configuration of one Wedscale process.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL; default a SQLite file ``var/wedscale.db`` (WAL mode).
    secret_key : str
        Signs session cookies and keys the audit chain; identical in every worker.
    redis_url : str or None
        Redis for shared live metrics and rate limits (optional).
    demo : bool
        Demo mode: demo users may exist, a banner says so, a generated key is allowed.
    session_idle_minutes : int
        Sessions end after this many idle minutes.
    metrics_token : str or None
        When set, ``/metrics`` requires ``Authorization: Bearer <token>``.
    var_dir : Path
        Folder for the SQLite file, the secret-key file and the engine lock.
    live_interval_ms : int
        How often the live page asks for new points.
    collect_interval_s : float
        How often the leader collects metrics from the sources.
    run_scheduler : bool
        Whether ``create_app`` may start the engine scheduler (when it wins the leader lock).
    redis_prefix : str
        Prefix of every Redis key (live store, rate-limit counters); one per deployment or
        test run, so several share one Redis without colliding.
    job_intervals_s : dict
        Per-job interval overrides in seconds, e.g. ``{"evaluate_alerts": 2}`` (tests, demos).
    rate_limits : dict
        Per-route-class rate limits over the defaults of ``app.limits``, e.g.
        ``{"monitoring": "100000/minute"}``: the ``[rate_limits]`` table of the config file,
        then ``WEDSCALE_RATE_LIMITS`` over it class by class (the environment wins). The one
        place ``app.limits`` reads them from.
    access_windows_ttl_s : float
        How long a process keeps the access windows in memory before reading them again
        (``WEDSCALE_ACCESS_WINDOWS_TTL_S``, 30): the longest another process takes to see a
        change; the process that makes it sees it at once.
    worker_header : bool
        Send ``X-Wedscale-Worker: <pid>`` on every response (cluster tests and benchmarks;
        off by default: it tells clients about the process layout).
    slow_query_ms : float
        Statements slower than this are kept in the slow-query list of the Health page.
    actuator_kind : str
        Where scale orders go: ``"simulated"`` (default) or ``"kubernetes"``.
    kubernetes_namespace : str
        Namespace of the Deployments scaled by the Kubernetes actuator.
    kubernetes_dry_run : bool
        Send Kubernetes scale requests as server-side dry runs.
    kubernetes_deployments : dict
        Service id → Deployment name (a service not listed uses its own id).
    config : FileConfig
        What ``WEDSCALE_CONFIG`` adds: services, thresholds, source, anomaly detection,
        notification channels, rollup persistence (``engine.config_file``); built-in
        defaults without a file.
    approval_ttl_minutes : float
        A decision waiting for approval expires after this long (30).
    order_attempts, order_verify_margin_s : int, float
        Sends per scale order before it fails (3); seconds beyond the provisioning delay an
        order may take to be ready before it is rolled back (120).
    daily_budget : float or None
        Cost budget per day (× 2.5 on a wedding day); over it, scale-ups wait for an admin.
    threats : ThreatThresholds
        Thresholds of the threat-detection rules (``engine/security/threats.py``).
    threat_interval_s : float
        How often the leader runs the threat rules over the audit log.
    write_queue_max : int
        Writes (decisions, alerts, audit rows) held in memory while the database is
        unreachable; when full, health is unhealthy and further writes are refused.
    session_cookie_secure : bool
        Send the session cookie over HTTPS only (``WEDSCALE_SESSION_COOKIE_SECURE``; on by
        default outside demo mode).
    backup_dir : Path or None
        Where backup files go (``WEDSCALE_BACKUP_DIR``); None = the default of
        ``engine.backup.files.resolve_backup_dir``.
    backup_interval_s : float
        A scheduled backup is due when the newest backup is older than this (default 1 h).
    backup_overdue_s : float
        The ``backups`` health component degrades when the newest verified backup is older.
    planning_budget : float
        Cost budget of a normal day (× 2.5 on a wedding day) the forecast pages price the
        recommended capacity against while no ``daily_budget`` is enforced.
    """

    database_url: str
    secret_key: str
    redis_url: str | None = None
    demo: bool = False
    session_idle_minutes: int = 30
    metrics_token: str | None = None
    var_dir: Path = DEFAULT_VAR_DIR
    live_interval_ms: int = 5000
    collect_interval_s: float = 5.0
    run_scheduler: bool = True
    backfill_days: int = 90
    seed: int = 7
    password_hash_profile: str = "default"
    redis_prefix: str = "wedscale:"
    job_intervals_s: dict = field(default_factory=dict)
    rate_limits: dict = field(default_factory=dict)
    access_windows_ttl_s: float = 30.0
    worker_header: bool = False
    slow_query_ms: float = 100.0
    approval_ttl_minutes: float = 30.0
    order_attempts: int = 3
    order_verify_margin_s: float = 120.0
    daily_budget: float | None = None
    threats: ThreatThresholds = field(default_factory=ThreatThresholds)
    threat_interval_s: float = 30.0
    write_queue_max: int = 10_000
    session_cookie_secure: bool = False
    backup_dir: Path | None = None
    backup_interval_s: float = 3600.0
    backup_overdue_s: float = 7200.0
    planning_budget: float = 150.0
    extra: dict = field(default_factory=dict)
    actuator_kind: str = "simulated"
    kubernetes_namespace: str = "default"
    kubernetes_dry_run: bool = False
    kubernetes_deployments: dict = field(default_factory=dict)
    config: FileConfig = field(default_factory=FileConfig)

    def with_(self, **changes) -> "Settings":
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file or memory database."""
        return self.database_url.startswith("sqlite")


def default_database_url(var_dir: Path) -> str:
    """Return the default SQLite URL under ``var_dir``."""
    return f"sqlite:///{(var_dir / 'wedscale.db').resolve()}"


def read_or_create_demo_secret(var_dir: Path) -> str:
    """Return the demo secret key from ``var_dir/secret_key``, creating it (mode 0600) once."""
    path = var_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _pairs(text: str) -> dict[str, str]:
    """Parse ``"a=1,b=2"`` (the form of the dict-valued variables) into ``{"a": "1", "b": "2"}``."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _rate_limits(text: str) -> dict[str, str]:
    """Parse ``WEDSCALE_RATE_LIMITS`` (``"monitoring=1000/minute,push=60000/minute"``), checked."""
    limits = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = (part.strip() for part in item.partition("="))
        problem = rate_limit_problem(name, value) if equals else f"must look like class=6000/minute, got {item!r}"
        if problem:
            raise ConfigError(f"WEDSCALE_RATE_LIMITS: {name if equals else item}: {problem}")
        limits[name] = value
    return limits


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """Return the non-negative number of seconds in ``env[name]`` (``default`` when unset)."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name}: must be a number of seconds >= 0, got {text!r}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool = False,
            least: float = 0.0) -> float:
    """Return the number in ``env[name]`` (``default`` when unset), at least ``least``.

    A typo in a deployment's environment must stop the start with one line naming the
    variable, not a traceback.
    """
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < least:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name}: must be {kind} >= {least:g}, got {text!r}")
    return value


def _job_intervals(text: str) -> dict[str, float]:
    """Parse ``WEDSCALE_JOB_INTERVALS`` (``"collect=5,forecast=3600"``): seconds > 0 per job."""
    intervals = {}
    for job, value in _pairs(text).items():
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds <= 0:
            raise ConfigError(f"WEDSCALE_JOB_INTERVALS: {job}: must be a number of seconds > 0, got {value!r}")
        intervals[job] = seconds
    return intervals


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_settings(*, demo: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Build Settings from ``env`` (default ``os.environ``).

    Without ``WEDSCALE_SECRET_KEY`` the key comes from ``var/secret_key`` when that file
    exists (created by demo mode), else the insecure placeholder, which ``serve`` refuses
    outside demo mode. ``WEDSCALE_CONFIG`` names a TOML file applied on top
    (``engine.config_file.apply_config_file``), except for rate limits: the file's come first
    and ``WEDSCALE_RATE_LIMITS`` overrides them class by class.

    Raises
    ------
    engine.config_model.ConfigError
        When the config file is missing, not TOML, or a key is invalid (one line naming
        the file and the key), or a variable checked here is invalid (one line naming it).
    """
    env = os.environ if env is None else env
    var_dir = Path(env.get("WEDSCALE_VAR_DIR", str(DEFAULT_VAR_DIR)))
    secret = env.get("WEDSCALE_SECRET_KEY")
    if not secret:
        if demo:
            secret = read_or_create_demo_secret(var_dir)
        elif (var_dir / SECRET_KEY_FILE).exists():
            secret = (var_dir / SECRET_KEY_FILE).read_text().strip()
        else:
            secret = INSECURE_DEFAULT_SECRET
    settings = Settings(
        database_url=env.get("WEDSCALE_DATABASE_URL") or default_database_url(var_dir),
        secret_key=secret,
        redis_url=env.get("WEDSCALE_REDIS_URL") or None,
        demo=demo,
        session_idle_minutes=_number(env, "WEDSCALE_SESSION_IDLE_MINUTES", 30, whole=True, least=1),
        metrics_token=env.get("WEDSCALE_METRICS_TOKEN") or None,
        var_dir=var_dir,
        collect_interval_s=_number(env, "WEDSCALE_COLLECT_INTERVAL_S", 5.0, least=0.1),
        backfill_days=_number(env, "WEDSCALE_BACKFILL_DAYS", 90, whole=True),
        redis_prefix=env.get("WEDSCALE_REDIS_PREFIX") or "wedscale:",
        job_intervals_s=_job_intervals(env.get("WEDSCALE_JOB_INTERVALS", "")),
        rate_limits=_rate_limits(env.get("WEDSCALE_RATE_LIMITS", "")),
        access_windows_ttl_s=_seconds(env, "WEDSCALE_ACCESS_WINDOWS_TTL_S", 30.0),
        worker_header=env.get("WEDSCALE_WORKER_HEADER", "") in ("1", "true", "yes"),
        slow_query_ms=_number(env, "WEDSCALE_SLOW_QUERY_MS", 100.0),
        actuator_kind=env.get("WEDSCALE_ACTUATOR", "simulated").strip().lower() or "simulated",
        kubernetes_namespace=env.get("WEDSCALE_K8S_NAMESPACE") or "default",
        kubernetes_dry_run=env.get("WEDSCALE_K8S_DRY_RUN", "").strip().lower() in ("1", "true", "yes", "on"),
        # HTTPS-only cookies unless demo mode (served on plain http://127.0.0.1) or told otherwise.
        session_cookie_secure=_flag(env.get("WEDSCALE_SESSION_COOKIE_SECURE"), not demo),
        backup_dir=Path(env["WEDSCALE_BACKUP_DIR"]) if env.get("WEDSCALE_BACKUP_DIR") else None,
    )
    config_path = env.get("WEDSCALE_CONFIG")
    if config_path:
        from engine.config_file import apply_config_file

        settings = apply_config_file(settings, Path(config_path), env)
    return settings
