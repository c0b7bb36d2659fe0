"""The one place that picks implementations and wires the engine together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Sequence

from engine.backup.files import resolve_backup_dir
from engine.backup.service import BackupService
from engine.calendar import WeddingCalendar
from engine.detect.alert_service import AlertService
from engine.detect.channels import build_channels
from engine.detect.live_anomaly import LiveAnomalyMonitor
from engine.detect.notify import LogNotifier, Notifier
from engine.detect.outbox import NotificationOutbox
from engine.metrics.rollup_archive import RollupArchive
from engine.forecast.service import ForecastService
from engine.scaling.autoscaler import Autoscaler
from engine.scaling.executor import Executor
from engine.scaling.forecast_feed import ForecastFeed
from engine.scaling.inputs import ScalingPolicy
from engine.scaling.pins import Pins
from engine.clock import Clock, SystemClock, from_epoch_s, to_epoch_s
from engine.security.access_windows import AccessWindows
from engine.security.accounts import Accounts
from engine.security.audit import AuditLog
from engine.security.breakglass import BreakGlass
from engine.security.passwords import passwords_for
from engine.security.threat_service import ThreatDetector
from engine.security.tokens import Tokens
from engine.wedding_book import WeddingBook
from engine.services import METRIC_IDS, ServiceSpec
from engine.settings import Settings
from engine.storage.db import Database
from engine.storage.write_behind import WriteBehind

if TYPE_CHECKING:
    from engine.actuators.base import Actuator
    from engine.metrics.store import MetricStore
    from engine.sources.base import MetricSource
    from engine.metrics.tally import IngestTally
    from engine.storage.slow_queries import SlowQueryLog


@dataclass
class Engine:
    """Everything the app and the jobs need, built once per process by ``build_engine``."""

    settings: Settings
    clock: Clock
    db: Database
    audit: AuditLog
    accounts: Accounts
    tokens: Tokens
    services: Sequence[ServiceSpec]
    calendar: WeddingCalendar
    actuator: "Actuator"
    source: "MetricSource"
    store: "MetricStore"
    alerts: AlertService
    executor: Executor
    breakglass: BreakGlass
    weddings: WeddingBook
    autoscaler: Autoscaler
    anomalies: LiveAnomalyMonitor
    outbox: NotificationOutbox
    rollups: RollupArchive
    pins: Pins
    writes: WriteBehind
    access_windows: AccessWindows
    threats: ThreatDetector
    backups: BackupService
    forecasts: ForecastService
    state: dict = field(default_factory=dict)
    slow_queries: "SlowQueryLog | None" = None
    ingested: "IngestTally | None" = None

    def service_names(self) -> list[str]:
        """Return the configured service ids in catalogue order."""
        return [s.name for s in self.services]

    def collect_metrics(self) -> int:
        """Collect new samples from the source into the live store; return how many."""
        now = self.clock.now()
        batch = self.source.collect(now)       # gather
        n = self.store.ingest(batch)           # apply
        self.count_ingested("collect", n)
        return n

    def count_ingested(self, path: str, n: int) -> None:
        """Count ``n`` samples stored through ``path`` (the ingest-rate metric); never raises."""
        if self.ingested is not None:
            try:
                self.ingested.add(path, n)
            except Exception:  # a lost count must not lose the samples
                pass

    def preview_manual_scale(self, requests, *, may_approve_large: bool) -> list:
        """Validate and classify orders without executing them; return the decisions.

        Raises InvalidInput for the first invalid order (bad field, outside min/max).
        """
        from engine.scaling.manual import propose_manual, target_of, validate

        from engine.scaling.budget import is_over_budget

        now = self.clock.now()
        for request in requests:
            validate(request, self.service_names())
        budget = self.budget_state(now) if self.autoscaler.policy.daily_budget is not None else None
        decisions = []
        for request in requests:
            spec = next(s for s in self.services if s.name == request.service)
            ready, pending = self.actuator.sizes(spec.name, now)
            current = ready + pending
            over, target = False, target_of(request, current)
            if budget is not None and target > current:  # only a scale-up can break the budget
                per_hour_after = budget["cost_per_hour"] + spec.cost_per_hour * (target - current)
                over = is_over_budget(budget["spent_today"], per_hour_after, budget["budget"], now)
            decisions.append(propose_manual(spec, current, request, now,
                                            may_approve_large=may_approve_large, over_budget=over))
        return decisions

    def request_manual_scale(self, requests, actor, *, may_approve_large: bool,
                             pin_minutes: float | None = None) -> list:
        """Preview every order, then submit them all (validation is all or nothing).

        With ``pin_minutes`` each service is pinned at its new size for that long (the
        autoscaler leaves it alone); the pins are recorded before the orders go out.
        """
        decisions = self.preview_manual_scale(requests, may_approve_large=may_approve_large)
        with self.db.session() as session:
            if pin_minutes:
                for d in decisions:
                    self.pins.pin(session, d.service, pin_minutes, actor, d.reason, d.created_at)
            return [self.executor.submit(session, d, actor) for d in decisions]

    def release_pin(self, service: str, actor) -> int:
        """Hand ``service`` back to the autoscaler; return how many pins ended."""
        from engine.errors import NotFound

        if service not in self.service_names():
            raise NotFound(f"unknown service {service!r}", {"field": "service"})
        with self.db.session() as session:
            return self.pins.release(session, service, actor, self.clock.now())

    def budget_state(self, now=None) -> dict:
        """Return today's spend, the day's budget (None when unset) and the cost per hour now."""
        from engine.scaling.budget import budget_of, spent_today
        from engine.weddings import is_wedding_day

        now = now or self.clock.now()
        sizes = {s.name: sum(self.actuator.sizes(s.name, now)) for s in self.services}
        costs = {s.name: s.cost_per_hour for s in self.services}
        with self.db.session() as session:
            changes = self.executor.changes_since(session, now - timedelta(days=1))
        wedding_day = is_wedding_day(self.calendar.all(), now.date())
        budget = self.autoscaler.policy.daily_budget
        return {"spent_today": spent_today(changes, sizes, costs, now),
                "cost_per_hour": sum(sizes[n] * costs[n] for n in sizes), "wedding_day": wedding_day,
                "budget": None if budget is None else budget_of(
                    budget, wedding_day, self.autoscaler.policy.wedding_day_budget_multiplier)}

    def check_orders(self) -> int:
        """Reconcile scale orders with the actuator, expire old approvals; return changes."""
        with self.db.session() as session:
            return self.executor.check_orders(session, self.clock.now())

    def run_autoscaler(self) -> int:
        """One autoscaling cycle over every service; return how many decisions it made."""
        return len(self.autoscaler.run_cycle(self))

    def submit_decisions(self, decisions: list, actor) -> list:
        """Record and execute ``decisions``; while the database is down, order now, record later.

        Returns the decision rows, or the decisions themselves when their rows are queued.
        """
        from engine.scaling.deferred import deferred_unit

        rows = self.writes.write(
            "decisions", lambda session: [self.executor.submit(session, d, actor) for d in decisions],
            deferred=lambda: deferred_unit(self.executor, decisions, actor))
        return decisions if rows is None else rows

    def retrain_forecasts(self) -> int:
        """Fit and record a new forecast model version per service; return how many."""
        return len(self.forecasts.retrain())

    def track_forecasts(self) -> int:
        """Store the next day's forecast and score the due ones; return how many were scored."""
        return self.forecasts.track()

    def forecast_is_reliable(self, service: str) -> bool:
        """False when ``service`` has no forecast model or its recent accuracy is poor.

        The scaling policy falls back to reactive scaling for that service then.
        """
        return self.forecasts.is_reliable(service)

    def request_prescale(self, wedding_id: int, actor, note: str = "") -> list:
        """Turn a coordinator's pre-scale request into pending decisions; return their rows.

        Raises NotFound for an unknown wedding and Conflict when the wedding is over or the
        current capacity already covers its forecast. Audited (the request and each decision).
        """
        from engine.errors import Conflict
        from engine.forecast.prescale import propose_prescale

        now = self.clock.now()
        wedding, outlook = self.forecasts.wedding_outlook(wedding_id)
        if wedding.window_end <= now:
            raise Conflict(f"wedding #{wedding_id} is over")
        current = {s.name: sum(self.actuator.sizes(s.name, now)) for s in self.services}
        decisions = propose_prescale(wedding, outlook, list(self.services), current, now, actor.name, note)
        if not decisions:
            raise Conflict("the instances ordered now already cover this wedding's forecast")
        with self.db.session() as session:
            self.audit.record(session, now=now, actor=actor, action="wedding.prescale_request", outcome="ok",
                              target=f"wedding:{wedding.id} {wedding.name}", reason=note.strip(),
                              details={"services": [d.service for d in decisions]})
            return [self.executor.submit(session, d, actor) for d in decisions]

    def evaluate_alerts(self) -> int:
        """Turn threshold crossings and live anomalies into alert transitions; return how many.

        While the database is down the evaluation is queued with its inputs and time, so the
        alert lifecycle is replayed in order on recovery (returns 0 then).
        """
        now = self.clock.now()
        anomalies = self.anomalies.observe(self.store, now)
        context = self.alerts.gather(self.store, self.service_names(), self.calendar.all(), now,
                                     thresholds_of=self.settings.config.thresholds_of,
                                     anomalies=tuple(anomalies), data_age_s=self.data_age_s())
        made = self.writes.write("alerts", lambda session: len(self.alerts.evaluate(session, context, now)))
        return made or 0

    def detect_threats(self) -> int:
        """Run the threat rules over the audit log; return how many new security alerts."""
        if self.writes.status().pending:
            return 0  # the database is (or was just) down: the log is incomplete until flushed
        now = self.clock.now()
        return len(self.writes.write("threats", lambda session: self.threats.run(session, now)) or [])

    def flush_writes(self) -> int:
        """Replay writes queued during a database outage; return how many were written."""
        return self.writes.flush()

    def deliver_notifications(self) -> dict[str, int]:
        """Escalate overdue alerts and send the queued notifications that are due."""
        return self.outbox.deliver_due(self.db, self.clock.now())

    def flush_rollups(self) -> int:
        """Persist completed rollup buckets to SQL; return how many rows were written."""
        if not self.settings.config.rollups.enabled:
            return 0
        return self.rollups.flush(self.db, self.store, self.clock.now())

    def restore_history(self) -> float | None:
        """Warm the live store from the persisted rollups; return the end of the newest hour (Unix s)."""
        restored = self.rollups.restore(self.db, self.store, self.clock.now())
        self.state["restored_until_s"] = restored
        return restored

    def run_backups(self) -> int | None:
        """Take the backup that is due (before a wedding window, or hourly), verify it, prune."""
        windows = [w.window_start for w in self.calendar.all()]   # gather
        return self.backups.run_due(windows)                      # decide and act

    def restore_backup(self, backup_id: int, actor):
        """Replace the database with a backup (see ``BackupService.restore``); forget caches of
        the replaced data."""
        result = self.backups.restore(backup_id, actor)
        self.calendar.invalidate()
        self.access_windows.invalidate()
        return result

    def warm_live_store(self, days: int) -> int:
        """Fill an empty live store: archived rollups first, then the backfill.

        Called at start for the in-memory store, and by a new leader for the shared (Redis)
        one. A store that already holds data (another worker filled it) is left alone; an
        empty one gets the persisted rollups back before anything is simulated, so the
        backfill only covers what the archive does not. Returns the samples backfilled.
        """
        if self.store.last_ingest_ts() is not None:
            return 0
        if self.settings.config.rollups.enabled:
            self.restore_history()
        return self.backfill_history(days)

    def backfill_history(self, days: int) -> int:
        """Fill the live store with ``days`` of simulated history (demo mode, first start).

        History already restored from the persisted rollups (``restore_history``) is not
        simulated again: the backfill starts where it ends.
        """
        backfill = getattr(self.source, "backfill", None)
        if backfill is None or days <= 0:
            return 0
        if self.settings.redis_url and self.store.last_ingest_ts() is not None:
            return 0  # a shared store already has history (another worker filled it)
        now = self.clock.now()
        start = now - timedelta(days=days)
        restored = self.state.get("restored_until_s")
        if restored is not None:
            start = max(start, from_epoch_s(restored))
        # Coarse history for the long ranges, then the last hour at the live 5 s step so the
        # live charts open full instead of with a gap up to the first collection.
        recent = max(start, now - timedelta(hours=1))
        n = self.store.ingest(backfill(start, recent, step_s=300)) if start < recent else 0
        return n + self.store.ingest(backfill(recent, now, step_s=5))

    def size_simulated_cluster(self) -> None:
        """Start a simulated cluster where a well-tuned autoscaler would be now.

        Without it the demo would open on every service at its minimum in the middle of a
        Saturday. Reads the calendar, so it runs at start-up, after the schema check.
        """
        sizes = getattr(self.source, "well_tuned_sizes", None)
        preset = getattr(self.actuator, "preset", None)
        if sizes is not None and preset is not None:
            preset(sizes(self.clock.now()))

    def record_health(self) -> str:
        """Check health, store a change of the overall state and alert per Saturday mode.

        Returns the overall state. See ``engine.health_history``.
        """
        from engine.health import check_health
        from engine.health_history import apply_health_step
        from engine.weddings import is_wedding_day

        report = check_health(self, self.state.get("runner"))            # gather
        now = self.clock.now()
        wedding_day = is_wedding_day(self.calendar.all(), now.date())
        with self.db.session() as session:                               # decide + apply
            apply_health_step(session, self.alerts, report, now, wedding_day)
        return report.status

    def data_age_s(self) -> float | None:
        """Seconds since the newest stored sample, or None when there is none yet."""
        last = self.store.last_ingest_ts()
        if last is None:
            return None
        return to_epoch_s(self.clock.now()) - last


def _live_store(settings: Settings, services: Sequence[ServiceSpec]):
    """Return ``(store, ingest tally)``: in Redis when configured (every worker reads what the
    leader writes), else in this process."""
    from engine.metrics.tally import MemoryTally, RedisTally

    names = [s.name for s in services]
    if settings.redis_url:
        import redis

        from engine.metrics.redis_store import RedisMetricStore

        client = redis.Redis.from_url(settings.redis_url, decode_responses=False,
                                      socket_timeout=5, socket_connect_timeout=3)
        return (RedisMetricStore(client, names, list(METRIC_IDS), prefix=settings.redis_prefix + "live:"),
                RedisTally(client, settings.redis_prefix))
    from engine.metrics.memory_store import RingBufferStore

    return RingBufferStore(names, list(METRIC_IDS)), MemoryTally()


def _metric_source(settings: Settings, services: Sequence[ServiceSpec], actuator, calendar) -> "MetricSource":
    """The source ``[source] kind`` names: the simulator, Prometheus, or push only."""
    config = settings.config
    if config.source_kind == "prometheus" and config.prometheus is not None:
        from engine.sources.prometheus import PrometheusSource

        prom = config.prometheus
        return PrometheusSource(prom.base_url, prom.queries, step_s=prom.step_s, timeout_s=prom.timeout_s)
    if config.source_kind == "push":
        from engine.sources.push_source import PushOnlySource

        return PushOnlySource()
    from engine.sources.simulator import Simulator

    return Simulator(services, actuator, calendar, seed=settings.seed, step_s=5.0)


def _actuator(settings: Settings, services: Sequence[ServiceSpec]):
    """The actuator ``settings.actuator_kind`` names: the simulated cluster or Kubernetes."""
    if settings.actuator_kind == "kubernetes":
        from engine.actuators.kubernetes import KubernetesActuator

        return KubernetesActuator.from_settings(settings, [s.name for s in services])
    if settings.actuator_kind != "simulated":
        raise ValueError(f"unknown actuator {settings.actuator_kind!r}; expected simulated or kubernetes")
    from engine.actuators.simulated import SimulatedCluster

    return SimulatedCluster(services)


def build_engine(settings: Settings, *, clock: Clock | None = None, db: Database | None = None,
                 source: "MetricSource | None" = None, actuator: "Actuator | None" = None,
                 services: Sequence[ServiceSpec] | None = None,
                 notifiers: list[Notifier] | None = None, channels: list | None = None) -> Engine:
    """Wire an Engine from ``settings``; every edge may be injected (tests pass fakes).

    ``services`` defaults to the configured catalogue (``settings.config.services``),
    ``channels`` to the configured webhook and e-mail channels.
    """
    from engine.scaling.orders import OrderDesk
    from engine.storage.slow_queries import SlowQueryLog

    services = tuple(services if services is not None else settings.config.services)
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    slow_queries = SlowQueryLog(settings.slow_query_ms)
    slow_queries.attach(db.engine)
    audit = AuditLog(settings.secret_key)
    calendar = WeddingCalendar(db, clock)
    actuator = actuator or _actuator(settings, services)
    if source is None:
        source = _metric_source(settings, services, actuator, calendar)
    store, ingested = _live_store(settings, services)
    outbox = NotificationOutbox(channels if channels is not None else build_channels(settings.config.notifications),
                                settings.config.notifications, audit)
    alerts = AlertService(audit, notifiers if notifiers is not None else [LogNotifier()], outbox)
    names = [s.name for s in services]
    orders = OrderDesk(actuator, audit, alerts, {s.name: s.provisioning_delay_s for s in services},
                       max_attempts=settings.order_attempts,
                       verify_margin_s=settings.order_verify_margin_s)
    executor = Executor(actuator, audit, orders, approval_ttl_s=settings.approval_ttl_minutes * 60.0)
    writes = WriteBehind(db, clock, settings.write_queue_max)
    # The Season page prices recommended capacity against the enforced budget when one is set,
    # else against a planning budget (no approvals are asked for it).
    forecasts = ForecastService(db=db, store=store, calendar=calendar.all, actuator=actuator,
                                services=services, clock=clock, secret_key=settings.secret_key,
                                daily_budget=(settings.daily_budget if settings.daily_budget is not None
                                              else settings.planning_budget))
    return Engine(
        settings=settings, clock=clock, db=db, audit=audit,
        accounts=Accounts(audit, clock, settings.session_idle_minutes,
                          passwords_for(settings.password_hash_profile)),
        tokens=Tokens(audit, clock), services=services, calendar=calendar,
        actuator=actuator, source=source, store=store,
        alerts=alerts, executor=executor, breakglass=BreakGlass(audit, alerts),
        weddings=WeddingBook(audit), pins=Pins(audit),
        autoscaler=Autoscaler(ScalingPolicy(daily_budget=settings.daily_budget),
                              forecast_for=ForecastFeed(forecasts)),
        slow_queries=slow_queries, ingested=ingested,
        anomalies=LiveAnomalyMonitor(settings.config.anomaly, names), outbox=outbox,
        rollups=RollupArchive(names, list(METRIC_IDS), settings.config.rollups),
        writes=writes, access_windows=AccessWindows(audit, clock, settings.access_windows_ttl_s),
        threats=ThreatDetector(alerts, settings.threats),
        backups=BackupService(db, audit, clock, resolve_backup_dir(settings),
                              interval_s=settings.backup_interval_s),
        forecasts=forecasts,
    )
