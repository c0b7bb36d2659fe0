"""The one place that picks implementations and wires the engine together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Sequence

from engine.calendar import WeddingCalendar
from engine.detect.alert_service import AlertService
from engine.detect.notify import LogNotifier, Notifier
from engine.forecast.service import ForecastService
from engine.scaling.autoscaler import Autoscaler
from engine.scaling.executor import Executor
from engine.clock import Clock, SystemClock, to_epoch_s
from engine.security.accounts import Accounts
from engine.security.audit import AuditLog
from engine.security.breakglass import BreakGlass
from engine.security.passwords import passwords_for
from engine.security.tokens import Tokens
from engine.wedding_book import WeddingBook
from engine.services import DEFAULT_SERVICES, METRIC_IDS, ServiceSpec
from engine.settings import Settings
from engine.storage.db import Database

if TYPE_CHECKING:
    from engine.actuators.base import Actuator
    from engine.metrics.store import MetricStore
    from engine.sources.base import MetricSource


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
    forecasts: ForecastService
    state: dict = field(default_factory=dict)

    def service_names(self) -> list[str]:
        """Return the configured service ids in catalogue order."""
        return [s.name for s in self.services]

    def collect_metrics(self) -> int:
        """Collect new samples from the source into the live store; return how many."""
        now = self.clock.now()
        batch = self.source.collect(now)       # gather
        return self.store.ingest(batch)        # apply

    def preview_manual_scale(self, requests, *, may_approve_large: bool) -> list:
        """Validate and classify orders without executing them; return the decisions.

        Raises InvalidInput for the first invalid order (bad field, outside min/max).
        """
        from engine.scaling.manual import propose_manual, validate

        now = self.clock.now()
        decisions = []
        for request in requests:
            validate(request, self.service_names())
            spec = next(s for s in self.services if s.name == request.service)
            ready, pending = self.actuator.sizes(spec.name, now)
            decisions.append(propose_manual(spec, ready + pending, request, now,
                                            may_approve_large=may_approve_large))
        return decisions

    def request_manual_scale(self, requests, actor, *, may_approve_large: bool) -> list:
        """Preview every order, then submit them all in one transaction (all or nothing)."""
        decisions = self.preview_manual_scale(requests, may_approve_large=may_approve_large)
        with self.db.session() as session:
            return [self.executor.submit(session, d, actor) for d in decisions]

    def run_autoscaler(self) -> int:
        """One autoscaling cycle over every service; return how many decisions it recorded."""
        return len(self.autoscaler.run_cycle(self))

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
        """Turn threshold crossings into alert transitions; return how many were made."""
        now = self.clock.now()
        context = self.alerts.gather(self.store, self.service_names(), self.calendar.all(), now)
        with self.db.session() as session:
            return len(self.alerts.evaluate(session, context, now))

    def backfill_history(self, days: int) -> int:
        """Fill the live store with ``days`` of simulated history (demo mode, first start)."""
        backfill = getattr(self.source, "backfill", None)
        if backfill is None or days <= 0:
            return 0
        if self.settings.redis_url and self.store.last_ingest_ts() is not None:
            return 0  # a shared store already has history (another worker filled it)
        now = self.clock.now()
        # Coarse history for the long ranges, then the last hour at the live 5 s step so the
        # live charts open full instead of with a gap up to the first collection.
        recent = now - timedelta(hours=1)
        n = self.store.ingest(backfill(now - timedelta(days=days), recent, step_s=300))
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

    def data_age_s(self) -> float | None:
        """Seconds since the newest stored sample, or None when there is none yet."""
        last = self.store.last_ingest_ts()
        if last is None:
            return None
        return to_epoch_s(self.clock.now()) - last


REDIS_PREFIX = "wedscale:live:"


def _live_store(settings: Settings, services: Sequence[ServiceSpec]):
    """Redis when configured (every worker reads what the leader writes), else in-process rings."""
    names = [s.name for s in services]
    if settings.redis_url:
        import redis

        from engine.metrics.redis_store import RedisMetricStore

        client = redis.Redis.from_url(settings.redis_url, decode_responses=False,
                                      socket_timeout=5, socket_connect_timeout=3)
        prefix = settings.extra.get("redis_prefix", REDIS_PREFIX)
        return RedisMetricStore(client, names, list(METRIC_IDS), prefix=prefix)
    from engine.metrics.memory_store import RingBufferStore

    return RingBufferStore(names, list(METRIC_IDS))


def build_engine(settings: Settings, *, clock: Clock | None = None, db: Database | None = None,
                 source: "MetricSource | None" = None, actuator: "Actuator | None" = None,
                 services: Sequence[ServiceSpec] = DEFAULT_SERVICES,
                 notifiers: list[Notifier] | None = None) -> Engine:
    """Wire an Engine from ``settings``; every edge may be injected (tests pass fakes)."""
    from engine.actuators.simulated import SimulatedCluster
    from engine.sources.simulator import Simulator

    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    audit = AuditLog(settings.secret_key)
    calendar = WeddingCalendar(db, clock)
    actuator = actuator or SimulatedCluster(services)
    if source is None:
        source = Simulator(services, actuator, calendar, seed=settings.seed,
                           step_s=5.0)
    store = _live_store(settings, services)
    alerts = AlertService(audit, notifiers if notifiers is not None else [LogNotifier()])
    return Engine(
        settings=settings, clock=clock, db=db, audit=audit,
        accounts=Accounts(audit, clock, settings.session_idle_minutes,
                          passwords_for(settings.password_hash_profile)),
        tokens=Tokens(audit, clock), services=services, calendar=calendar,
        actuator=actuator, source=source, store=store,
        alerts=alerts, executor=Executor(actuator, audit), breakglass=BreakGlass(audit, alerts),
        weddings=WeddingBook(audit), autoscaler=Autoscaler(),
        forecasts=ForecastService(db=db, store=store, calendar=calendar.all, actuator=actuator,
                                  services=services, clock=clock, secret_key=settings.secret_key,
                                  daily_budget=settings.daily_budget),
    )
