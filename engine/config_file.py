"""Read and validate the ``WEDSCALE_CONFIG`` TOML file (``seeds/wedscale.example.toml`` documents it).

Every problem raises ``ConfigError`` with one line naming the file and the dotted key, e.g.
``wedscale.toml: services.api.max_instances: must be >= min_instances (2), got 1``.
Unknown keys are errors too (a misspelt key would otherwise be silently ignored). Secrets are
never read from the file: the file names environment variables (``url_env``, ``token_env``,
``password_env``) and a key such as ``password`` is refused.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from engine.config_model import (CHANNEL_LEVELS, DAY_KINDS, SOURCE_KINDS, AnomalyConfig, ConfigError,
                                 EmailSpec, FileConfig, NotificationConfig, PrometheusConfig,
                                 RollupConfig, WebhookSpec, rate_limit_problem)
from engine.detect.thresholds import Threshold
from engine.services import DEFAULT_SERVICES, METRIC_IDS, ServiceSpec

ACTUATOR_KINDS = ("simulated", "kubernetes")
_SECRET_KEYS = ("password", "token", "secret", "api_key")
_MISSING = object()


class _Table:
    """One TOML table being read: typed getters that name ``file: key`` in their errors."""

    def __init__(self, path: Path, prefix: str, data: Any):
        self.path, self.prefix = path, prefix
        if not isinstance(data, dict):
            self.fail("", f"must be a table, got {type(data).__name__}")
        self.data, self.used = data, set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str):
        where = self.key(name) if name else (self.prefix or "(top level)")
        raise ConfigError(f"{self.path}: {where}: {problem}")

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        self.used.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            self.fail(name, "is required")
        return default

    def text(self, name: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> Any:
        value = self.raw(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(name, f"must be a non-empty string, got {value!r}")
        if choices and value not in choices:
            self.fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def number(self, name: str, default: Any = _MISSING, *, minimum: float = 0.0) -> float:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(name, f"must be a number, got {value!r}")
        if value < minimum:
            self.fail(name, f"must be >= {minimum:g}, got {value!r}")
        return float(value)

    def integer(self, name: str, default: Any = _MISSING, *, minimum: int = 0) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be an integer, got {value!r}")
        if value < minimum:
            self.fail(name, f"must be >= {minimum}, got {value!r}")
        return value

    def flag(self, name: str, default: Any = _MISSING) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            self.fail(name, f"must be true or false, got {value!r}")
        return value

    def table(self, name: str, required: bool = False) -> "_Table | None":
        value = self.raw(name, _MISSING if required else None)
        return None if value is None else _Table(self.path, self.key(name), value)

    def tables(self, name: str) -> list["_Table"]:
        value = self.raw(name, [])
        if not isinstance(value, list):
            self.fail(name, "must be an array of tables ([[...]])")
        return [_Table(self.path, f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)]

    def done(self) -> None:
        """Refuse keys nobody read: secrets get a pointer to ``*_env``, typos a list of keys."""
        for name in self.data:
            if name in self.used:
                continue
            if name in _SECRET_KEYS:
                self.fail(name, f"secrets are not accepted in the file; name an environment "
                                f"variable with {name}_env instead")
            self.fail(name, f"unknown key (known here: {', '.join(sorted(self.used)) or 'none'})")


def load_config(path: Path, env: Mapping[str, str]) -> tuple[FileConfig, dict]:
    """Return ``(FileConfig, settings fields)`` read from the TOML file at ``path``.

    The second value holds the ``Settings`` fields the file sets directly: the actuator and
    ``rate_limits``.

    Raises
    ------
    ConfigError
        One line naming the file and the key for any problem.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (WEDSCALE_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    top = _Table(path, "", data)
    services = _services(top.table("services"))
    names = [s.name for s in services]
    config = FileConfig(
        path=str(path), services=services,
        thresholds=_thresholds(top, names),
        anomaly=_anomaly(top.table("anomaly")),
        notifications=_notifications(top.table("notifications"), env),
        rollups=_rollups(top.table("rollups")),
    )
    kind, prometheus = _source(top.table("source"), names)
    config = replace(config, source_kind=kind, prometheus=prometheus)
    fields = _actuator(top.table("actuator"), names)
    limits = _rate_limits(top.table("rate_limits"))
    if limits:
        fields["rate_limits"] = limits
    top.done()
    return config, fields


def apply_config_file(settings, path: Path, env: Mapping[str, str]):
    """Return ``settings`` with the config file at ``path`` applied (see ``load_config``).

    ``settings.rate_limits`` holds what ``WEDSCALE_RATE_LIMITS`` set; it wins over the file's
    ``[rate_limits]`` class by class.
    """
    config, fields = load_config(path, env)
    if "rate_limits" in fields:
        fields["rate_limits"] = {**fields["rate_limits"], **settings.rate_limits}
    return settings.with_(config=config, **fields)


def _services(table: _Table | None) -> tuple[ServiceSpec, ...]:
    if table is None:
        return DEFAULT_SERVICES
    defaults = {s.name: s for s in DEFAULT_SERVICES}
    specs = []
    for name in table.data:
        service = table.table(name)
        base = defaults.get(name)
        get = lambda key, fn, **kw: fn(key, getattr(base, key) if base else _MISSING, **kw)  # noqa: E731
        spec = ServiceSpec(
            name=name,
            min_instances=get("min_instances", service.integer, minimum=0),
            max_instances=get("max_instances", service.integer, minimum=1),
            capacity_rps=get("capacity_rps", service.number, minimum=1e-9),
            cost_per_hour=get("cost_per_hour", service.number),
            provisioning_delay_s=get("provisioning_delay_s", service.number),
            base_rps=get("base_rps", service.number),
            critical=get("critical", service.flag),
        )
        if spec.max_instances < spec.min_instances:
            service.fail("max_instances", f"must be >= min_instances ({spec.min_instances}), "
                                          f"got {spec.max_instances}")
        service.used.add("thresholds")  # read by _thresholds
        service.done()
        specs.append(spec)
    if not specs:
        table.fail("", "names no service")
    return tuple(specs)


def _threshold_days(table: _Table) -> dict[str, dict[str, Threshold]]:
    days = {}
    for day in DAY_KINDS:
        metrics = table.table(day)
        if metrics is None:
            continue
        limits = {}
        for metric in metrics.data:
            if metric not in METRIC_IDS:
                metrics.fail(metric, f"unknown metric id (expected one of {', '.join(METRIC_IDS)})")
            pair = metrics.table(metric)
            limit = Threshold(pair.number("warning", minimum=-math.inf), pair.number("critical", minimum=-math.inf))
            if limit.critical < limit.warning:
                pair.fail("critical", f"must be >= warning ({limit.warning:g}), got {limit.critical:g}")
            pair.done()
            limits[metric] = limit
        metrics.done()
        days[day] = limits
    table.done()
    return days


def _thresholds(top: _Table, names: list[str]) -> dict:
    out = {}
    common = top.table("thresholds")
    if common is not None:
        out["*"] = _threshold_days(common)
    services = top.data.get("services") or {}
    for name in names:
        own = services.get(name, {}).get("thresholds") if isinstance(services.get(name), dict) else None
        if own is not None:
            out[name] = _threshold_days(_Table(top.path, f"services.{name}.thresholds", own))
    return out


def _source(table: _Table | None, names: list[str]) -> tuple[str, PrometheusConfig | None]:
    if table is None:
        return "simulator", None
    kind = table.text("kind", "simulator", SOURCE_KINDS)
    prom = table.table("prometheus", required=kind == "prometheus")
    config = None
    if prom is not None:
        queries = {}
        per_service = prom.table("queries", required=True)
        for service in per_service.data:
            if service not in names:
                per_service.fail(service, f"unknown service (configured: {', '.join(names)})")
            metrics = per_service.table(service)
            for metric in metrics.data:
                if metric not in METRIC_IDS:
                    metrics.fail(metric, f"unknown metric id (expected one of {', '.join(METRIC_IDS)})")
                queries[(service, metric)] = metrics.text(metric)
            metrics.done()
        per_service.done()
        if not queries:
            per_service.fail("", "has no query")
        base_url = prom.text("base_url")
        if not base_url.startswith(("http://", "https://")):
            prom.fail("base_url", f"must start with http:// or https://, got {base_url!r}")
        config = PrometheusConfig(base_url, queries, prom.number("step_s", 5.0, minimum=1.0),
                                  prom.number("timeout_s", 5.0, minimum=0.1))
        prom.done()
    table.done()
    return kind, config


def _anomaly(table: _Table | None) -> AnomalyConfig:
    if table is None:
        return AnomalyConfig()
    base = AnomalyConfig()
    metrics = table.raw("metrics", list(base.metrics))
    if not isinstance(metrics, list) or any(m not in METRIC_IDS for m in metrics):
        table.fail("metrics", f"must be a list of metric ids ({', '.join(METRIC_IDS)}), got {metrics!r}")
    config = AnomalyConfig(
        enabled=table.flag("enabled", base.enabled), metrics=tuple(metrics),
        threshold=table.number("threshold", base.threshold, minimum=0.1),
        severity=table.text("severity", base.severity, ("warning", "critical")),
        clear_after_s=table.number("clear_after_s", base.clear_after_s),
        history_s=table.number("history_s", base.history_s))
    table.done()
    return config


def _secret(table: _Table, name: str, env: Mapping[str, str], required: bool) -> str | None:
    """Return the value of the environment variable named by ``<name>_env``."""
    variable = table.text(f"{name}_env", _MISSING if required else None)
    if variable is None:
        return None
    value = env.get(variable)
    if not value:
        table.fail(f"{name}_env", f"the environment variable {variable} is not set")
    return value


def _notifications(table: _Table | None, env: Mapping[str, str]) -> NotificationConfig:
    if table is None:
        return NotificationConfig()
    base = NotificationConfig()
    webhooks, emails = [], []
    for hook in table.tables("webhook"):
        url = hook.text("url", None)
        url_from_env = _secret(hook, "url", env, required=url is None)
        url = url_from_env or url
        if not url.startswith(("http://", "https://")):
            hook.fail("url_env" if url_from_env else "url", "must be an http:// or https:// URL")
        webhooks.append(WebhookSpec(hook.text("name"), hook.text("level", "all", CHANNEL_LEVELS), url,
                                    _secret(hook, "token", env, required=False)))
        hook.done()
    for mail in table.tables("email"):
        recipients = mail.raw("to")
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, list) or not recipients or not all(
                isinstance(r, str) and "@" in r for r in recipients):
            mail.fail("to", f"must be an address or a list of addresses, got {recipients!r}")
        emails.append(EmailSpec(
            name=mail.text("name"), host=mail.text("host"), port=mail.integer("port", 25, minimum=1),
            sender=mail.text("from"), recipients=tuple(recipients),
            level=mail.text("level", "critical", CHANNEL_LEVELS), starttls=mail.flag("starttls", False),
            username=mail.text("username", None), password=_secret(mail, "password", env, required=False)))
        mail.done()
    names = [c.name for c in (*webhooks, *emails)]
    if len(set(names)) != len(names):
        table.fail("", f"channel names must be unique, got {', '.join(names)}")
    config = NotificationConfig(
        tuple(webhooks), tuple(emails),
        group_window_s=table.number("group_window_s", base.group_window_s),
        escalate_after_minutes=table.number("escalate_after_minutes", base.escalate_after_minutes, minimum=1),
        max_attempts=table.integer("max_attempts", base.max_attempts, minimum=1),
        backoff_base_s=table.number("backoff_base_s", base.backoff_base_s, minimum=1),
        backoff_max_s=table.number("backoff_max_s", base.backoff_max_s, minimum=1),
        timeout_s=table.number("timeout_s", base.timeout_s, minimum=0.1))
    table.done()
    return config


def _rate_limits(table: _Table | None) -> dict[str, str]:
    if table is None:
        return {}
    limits = {}
    for name in list(table.data):
        value = table.raw(name)
        problem = rate_limit_problem(name, value)
        if problem:
            table.fail(name, problem)
        limits[name] = value
    table.done()
    return limits


def _rollups(table: _Table | None) -> RollupConfig:
    if table is None:
        return RollupConfig()
    base = RollupConfig()
    config = RollupConfig(
        enabled=table.flag("enabled", base.enabled),
        flush_interval_s=table.number("flush_interval_s", base.flush_interval_s, minimum=1),
        minute_history_days=table.number("minute_history_days", base.minute_history_days),
        minute_keep_days=table.number("minute_keep_days", base.minute_keep_days, minimum=1),
        hour_keep_days=table.number("hour_keep_days", base.hour_keep_days, minimum=1))
    table.done()
    return config


def _actuator(table: _Table | None, names: list[str]) -> dict:
    if table is None:
        return {}
    deployments = table.table("deployments")
    mapping = {}
    if deployments is not None:
        for service in deployments.data:
            if service not in names:
                deployments.fail(service, f"unknown service (configured: {', '.join(names)})")
            mapping[service] = deployments.text(service)
        deployments.done()
    # only the keys the file names: an [actuator] table that sets just the deployments keeps
    # the kind, namespace and dry-run mode the environment chose
    readers = {"kind": ("actuator_kind", lambda: table.text("kind", "simulated", ACTUATOR_KINDS)),
               "namespace": ("kubernetes_namespace", lambda: table.text("namespace", "default")),
               "dry_run": ("kubernetes_dry_run", lambda: table.flag("dry_run", False))}
    fields = {field: read() for key, (field, read) in readers.items() if key in table.data}
    if deployments is not None:
        fields["kubernetes_deployments"] = mapping
    table.done()
    return fields
