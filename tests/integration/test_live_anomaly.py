"""Live anomaly alerts: the streaming detector fed from the live store raises lifecycle alerts."""

from __future__ import annotations

from engine.detect.live_anomaly import ANOMALY_PREFIX
from engine.storage.models import AlertEvent, AlertRow


def _run(engine, clock, minutes: float, *, incident: str | None = None, after_min: float = 2.0) -> None:
    """Collect every 5 s and evaluate every 10 s for ``minutes``; inject ``incident`` on api."""
    for step in range(int(minutes * 12)):
        if incident and step == int(after_min * 12):
            engine.source.inject_incident(incident, "api", clock.now(), 20 * 60)
        clock.advance(seconds=5)
        engine.collect_metrics()
        if step % 2:
            engine.evaluate_alerts()


def _anomaly_alerts(engine) -> list[AlertRow]:
    with engine.db.session() as session:
        return [r for r in session.query(AlertRow) if r.metric.startswith(ANOMALY_PREFIX)]


def test_injected_incident_raises_an_anomaly_alert_once(engine, clock):
    engine.backfill_history(1)  # the last hour at 5 s warms the detectors
    _run(engine, clock, 9, incident="latency_spike")
    alerts = _anomaly_alerts(engine)
    assert [(a.service, a.metric) for a in alerts] == [("api", "anomaly:latency_p95_ms")]
    alert = alerts[0]
    assert alert.state == "firing" and alert.severity == "warning"  # fired after the warning hold
    assert "anomalous" in alert.summary and alert.value > 2000
    with engine.db.session() as session:
        states = [e.to_state for e in session.query(AlertEvent).filter_by(alert_id=alert.id)]
    assert states == ["pending", "firing"]


def test_quiet_series_raise_no_anomaly_alert(engine, clock):
    engine.backfill_history(1)
    _run(engine, clock, 15)
    assert _anomaly_alerts(engine) == []


def test_anomaly_threshold_comes_from_configuration(engine, clock):
    from dataclasses import replace

    strict = replace(engine.settings.config.anomaly, threshold=1e6)  # nothing is that improbable
    engine.anomalies.config = strict
    engine.backfill_history(1)
    _run(engine, clock, 9, incident="latency_spike")
    assert _anomaly_alerts(engine) == []
