"""Settings read from the environment (twelve-factor) with the built-in defaults.

Only ``load_settings`` reads ``os.environ``; everything else receives a ``Settings`` value.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

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
    daily_budget : float
        Cost budget of a normal day for the forecast's recommended capacity (× 2.5 on a
        wedding day), in the currency of the services' costs.
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
    daily_budget: float = 150.0
    extra: dict = field(default_factory=dict)

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


def load_settings(*, demo: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Build Settings from ``env`` (default ``os.environ``).

    Without ``WEDSCALE_SECRET_KEY`` the key comes from ``var/secret_key`` when that file
    exists (created by demo mode), else the insecure placeholder, which ``serve`` refuses
    outside demo mode.
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
    return Settings(
        database_url=env.get("WEDSCALE_DATABASE_URL") or default_database_url(var_dir),
        secret_key=secret,
        redis_url=env.get("WEDSCALE_REDIS_URL") or None,
        demo=demo,
        session_idle_minutes=int(env.get("WEDSCALE_SESSION_IDLE_MINUTES", "30")),
        metrics_token=env.get("WEDSCALE_METRICS_TOKEN") or None,
        var_dir=var_dir,
    )
