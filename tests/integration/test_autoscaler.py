"""The autoscaler job on the simulated platform: a ceremony crowd is answered, audited, and
nothing is decided from stale data."""

from __future__ import annotations


from engine.storage.models import AuditEntry, DecisionRow


def run(engine, clock, seconds: int, step: int = 5):
    for _ in range(seconds // step):
        clock.advance(seconds=step)
        engine.collect_metrics()
    return engine.run_autoscaler()


def test_overload_is_answered_with_an_audited_scale_up(engine, clock):
    engine.actuator.preset({"api": 2})  # far too few for a Saturday afternoon
    ready_before = engine.actuator.sizes("api", clock.now())[0]
    assert run(engine, clock, 60) >= 1
    with engine.db.session() as session:
        row = session.query(DecisionRow).filter_by(service="api").one()
        assert row.actor == "autoscaler" and row.to_instances > ready_before
        assert row.to_instances <= int(ready_before * 1.5 + 1e-9) or row.trigger == "emergency"
        assert session.query(AuditEntry).filter_by(actor="autoscaler", target="api").count() == 1
    clock.advance(seconds=engine.services[0].provisioning_delay_s)
    assert engine.actuator.sizes("api", clock.now())[0] == row.to_instances


def test_no_decision_from_stale_data(engine, clock):
    engine.actuator.preset({"api": 2})
    for _ in range(6):
        clock.advance(seconds=5)
        engine.collect_metrics()
    engine.source.stop()
    clock.advance(minutes=2)
    engine.collect_metrics()
    assert engine.run_autoscaler() == 0  # the overload is real, but the data is 2 minutes old
    with engine.db.session() as session:
        assert session.query(DecisionRow).count() == 0
    engine.source.resume()
    clock.advance(seconds=5)
    engine.collect_metrics()
    assert engine.run_autoscaler() >= 1  # fresh data again: the same overload is answered


def test_a_well_sized_platform_does_not_flap(engine, clock):
    for _ in range(8):
        run(engine, clock, 15)
    with engine.db.session() as session:
        rows = session.query(DecisionRow).all()
    for service in {r.service for r in rows}:
        directions = {r.to_instances > r.from_instances for r in rows if r.service == service}
        assert len(directions) == 1, f"{service} scaled both up and down within two minutes"
