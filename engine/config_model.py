"""What a ``WEDSCALE_CONFIG`` file configures, as frozen values with the built-in defaults.

``engine.config_file`` reads and validates the TOML into these; everything else only reads
them (``Settings.config``). No I/O here. Secrets (webhook URLs and tokens, SMTP passwords)
are resolved from the environment variables the file names, held in fields that are left
out of ``repr`` so they never reach a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from engine.detect.thresholds import Threshold, thresholds_for
from engine.services import DEFAULT_SERVICES, ServiceSpec

SOURCE_KINDS = ("simulator", "prometheus", "push")
# Which notifications a channel receives: every one, or only critical ones and escalations
# (alerts nobody acknowledged in time). Critical alerts and escalations go to every channel.
CHANNEL_LEVELS = ("all", "critical")
DAY_KINDS = ("normal", "wedding_day")
# Route classes of app.limits and the periods a limit may count over.
RATE_LIMIT_CLASSES = ("monitoring", "health", "actions", "push")
RATE_LIMIT_PERIODS = ("second", "minute", "hour", "day")


class ConfigError(ValueError):
    """The config file is unusable; the message is one line naming the file and the key."""


def rate_limit_problem(route_class: str, limit) -> str | None:
    """Return what is wrong with ``limit`` for ``route_class`` (one phrase), or None.

    The file and ``WEDSCALE_RATE_LIMITS`` both check through here, so both refuse the same.
    """
    if route_class not in RATE_LIMIT_CLASSES:
        return f"unknown route class (expected one of {', '.join(RATE_LIMIT_CLASSES)})"
    amount, _, period = limit.partition("/") if isinstance(limit, str) else ("", "", "")
    if not amount.strip().isdigit() or period.strip() not in RATE_LIMIT_PERIODS:
        return f'must look like "6000/minute" (per {", ".join(RATE_LIMIT_PERIODS)}), got {limit!r}'
    return None


@dataclass(frozen=True)
class PrometheusConfig:
    """The Prometheus source: server, resolution, and one PromQL query per (service, metric)."""

    base_url: str
    queries: Mapping[tuple[str, str], str]
    step_s: float = 5.0
    timeout_s: float = 5.0


@dataclass(frozen=True)
class AnomalyConfig:
    """Live anomaly alerts from the streaming detector (``engine.detect.live_anomaly``).

    Parameters
    ----------
    enabled : bool
        Feed the detector and raise anomaly alerts.
    metrics : tuple of str
        Metric ids watched per service.
    threshold : float
        Detector evidence (decimal digits of improbability) that raises an alert; the
        detector's own default is 4.0, the value its NAB scores were measured with.
    severity : str
        Severity of anomaly alerts (``warning`` waits the warning hold time).
    clear_after_s : float
        An anomaly alert resolves once the evidence stayed below the threshold this long.
    history_s : float
        How far back a detector is warmed from the store when it starts.
    """

    enabled: bool = True
    metrics: tuple[str, ...] = ("latency_p95_ms", "error_rate_pct", "request_rate")
    threshold: float = 4.0
    severity: str = "warning"
    clear_after_s: float = 300.0
    history_s: float = 3600.0


@dataclass(frozen=True)
class WebhookSpec:
    """A webhook channel: JSON POST to ``url`` (optionally with a bearer token)."""

    name: str
    level: str = "all"
    url: str = field(default="", repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EmailSpec:
    """An e-mail channel over SMTP."""

    name: str
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    level: str = "critical"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NotificationConfig:
    """Channels and the delivery rules of the notification outbox."""

    webhooks: tuple[WebhookSpec, ...] = ()
    emails: tuple[EmailSpec, ...] = ()
    group_window_s: float = 30.0
    escalate_after_minutes: float = 15.0
    max_attempts: int = 5
    backoff_base_s: float = 15.0
    backoff_max_s: float = 600.0
    timeout_s: float = 5.0


@dataclass(frozen=True)
class RollupConfig:
    """Persistence of rollups to the ``metric_rollups`` table.

    ``minute_history_days`` bounds how far back the first flush of 1-minute rollups reaches
    (a demo start backfills 90 days; a year of minutes is not worth a table). Minutes older
    than ``minute_keep_days`` are pruned; hours are kept for ``hour_keep_days``.
    """

    enabled: bool = True
    flush_interval_s: float = 60.0
    minute_history_days: float = 7.0
    minute_keep_days: float = 30.0
    hour_keep_days: float = 366.0


@dataclass(frozen=True)
class FileConfig:
    """Everything ``WEDSCALE_CONFIG`` can set; the defaults are the built-in product."""

    path: str | None = None
    services: tuple[ServiceSpec, ...] = DEFAULT_SERVICES
    # service id, or "*" for every service → day kind → metric → Threshold
    thresholds: Mapping[str, Mapping[str, Mapping[str, Threshold]]] = field(default_factory=dict)
    source_kind: str = "simulator"
    prometheus: PrometheusConfig | None = None
    anomaly: AnomalyConfig = AnomalyConfig()
    notifications: NotificationConfig = NotificationConfig()
    rollups: RollupConfig = RollupConfig()

    def thresholds_of(self, service: str, wedding_day: bool) -> dict[str, Threshold]:
        """Return the thresholds in force for ``service``: defaults, then ``*``, then its own."""
        day = "wedding_day" if wedding_day else "normal"
        overrides = dict(self.thresholds.get("*", {}).get(day, {}))
        overrides.update(self.thresholds.get(service, {}).get(day, {}))
        return thresholds_for(wedding_day, overrides)
