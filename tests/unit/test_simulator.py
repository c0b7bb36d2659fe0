"""Simulator: determinism, chunking, wedding load, cluster response, incidents, outages, backfill."""

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from engine.actuators.simulated import SimulatedCluster
from engine.clock import ManualClock, to_epoch_s
from engine.errors import InvalidInput, NotFound
from engine.services import DEFAULT_SERVICES, METRIC_IDS
from engine.sources.base import SampleBatch
from engine.sources.simulator import Simulator
from engine.weddings import Wedding

T0 = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)  # a Saturday in season
SIZES = {"api": 8, "database": 4, "file-storage": 5, "real-time": 5, "ai-services": 3}
NAMES = [s.name for s in DEFAULT_SERVICES]


def wedding(ceremony: datetime, guests: int = 100) -> Wedding:
    return Wedding(1, "Ava & Noah", "UTC", ceremony, ceremony + timedelta(hours=1),
                   ceremony + timedelta(hours=6), guests)


def make(weddings=(), seed=7, sizes=SIZES):
    cluster = SimulatedCluster(DEFAULT_SERVICES, initial=dict(sizes))
    return Simulator(DEFAULT_SERVICES, cluster, list(weddings), seed=seed), cluster


def as_dict(batch: SampleBatch) -> dict:
    return {(s, m, t): v for s, m, t, v in batch.rows()}


def run(sim: Simulator, clock: ManualClock, seconds: float, every: float = 5.0) -> SampleBatch:
    parts = []
    end = clock.now() + timedelta(seconds=seconds)
    while clock.now() < end:
        clock.advance(seconds=every)
        parts.append(sim.collect(clock.now()))
    return SampleBatch.concat(parts)


def values(batch: SampleBatch, service: str, metric: str) -> np.ndarray:
    return batch.select(service, metric).value


def test_same_seed_same_samples_other_seed_other_samples():
    a, b, c = make(seed=1)[0], make(seed=1)[0], make(seed=2)[0]
    for sim in (a, b, c):
        sim.collect(T0)
    later = T0 + timedelta(minutes=3)
    ba, bb, bc = a.collect(later), b.collect(later), c.collect(later)
    assert ba.rows() == bb.rows()
    assert not np.array_equal(ba.value, bc.value)


def test_every_metric_of_every_service_on_the_step_grid():
    sim, _ = make()
    first = sim.collect(T0 + timedelta(seconds=2))
    assert len(first) == len(NAMES) * len(METRIC_IDS)  # only the step at or before now
    batch = sim.collect(T0 + timedelta(seconds=62))
    steps = np.unique(batch.ts)
    assert len(steps) == 12 and np.all(steps % 5 == 0)
    assert steps[0] == to_epoch_s(T0) + 5 and steps[-1] == to_epoch_s(T0) + 60
    assert {(s, m) for s, m, _, _ in batch.rows()} == {(s, m) for s in NAMES for m in METRIC_IDS}
    assert len(batch) == 12 * len(NAMES) * len(METRIC_IDS)
    assert len(sim.collect(T0 + timedelta(seconds=64))) == 0  # no new step yet


def test_values_do_not_depend_on_how_calls_are_chunked():
    fine, fine_cluster = make()
    coarse, coarse_cluster = make()
    clock_fine, clock_coarse = ManualClock(T0), ManualClock(T0)
    fine.collect(T0)
    coarse.collect(T0)
    # The same scale order in both clusters, placed mid-run.
    for cluster in (fine_cluster, coarse_cluster):
        cluster.scale("api", 3, T0 + timedelta(seconds=200), "down")
    every_5s = run(fine, clock_fine, 600)
    irregular = SampleBatch.concat(
        coarse.collect(clock_coarse.advance(seconds=s)) for s in (7, 33, 60, 1, 99, 200, 200))
    assert as_dict(every_5s) == as_dict(irregular)


def test_backfill_draws_the_same_demand_as_live_at_the_same_timestamps():
    sim, _ = make(weddings=[wedding(T0 + timedelta(minutes=10))])
    clock = ManualClock(T0)
    sim.collect(T0)
    live = run(sim, clock, 1800, every=60)
    history = sim.backfill(T0, T0 + timedelta(minutes=30), step_s=300)
    live_rr = {(s, t): v for s, m, t, v in live.rows() if m == "request_rate"}
    compared = 0
    for s, m, t, v in history.rows():
        if m == "request_rate" and (s, t) in live_rr:
            assert live_rr[s, t] == v
            compared += 1
    assert compared == 5 * len(NAMES)  # 14:05 … 14:25 (14:00 was the first, uncompared collect)


def test_ceremony_raises_api_load_about_four_times():
    start, end = T0, T0 + timedelta(hours=11)
    ceremony = T0 + timedelta(hours=3)
    with_wedding = make(weddings=[wedding(ceremony)])[0].backfill(start, end, step_s=60)
    without = make()[0].backfill(start, end, step_s=60)
    ratio = values(with_wedding, "api", "request_rate") / values(without, "api", "request_rate")
    ts = with_wedding.select("api", "request_rate").ts
    c0 = to_epoch_s(ceremony)
    in_ceremony = (ts >= c0) & (ts < c0 + 3600)
    in_reception = (ts >= c0 + 3600) & (ts < c0 + 6 * 3600)
    assert ratio[in_ceremony] == pytest.approx(3.87, abs=0.05)     # ≈ 4× the baseline
    assert ratio[in_reception] == pytest.approx(2.0, abs=0.05)     # reception plateau ≈ 2×
    assert ratio[ts < c0 - 2 * 3600].max() == pytest.approx(1.0)   # before the window
    prep = ratio[(ts >= c0 - 2 * 3600) & (ts < c0)]
    assert np.all(np.diff(prep) >= 0) and 1.0 <= prep.min() < prep.max() < 2.0  # a ramp
    assert np.all(np.diff(ratio[ts >= c0 + 6 * 3600]) <= 1e-12)      # decay in the wind-down
    # Photo uploads make file-storage and ai-services heavier than api in the reception.
    for heavy in ("file-storage", "ai-services"):
        r = values(with_wedding, heavy, "request_rate") / values(without, heavy, "request_rate")
        assert r[in_reception].mean() > ratio[in_reception].mean() + 1.0


def test_bigger_weddings_bring_more_load():
    ceremony = T0 + timedelta(hours=1)
    span = (ceremony + timedelta(minutes=10), ceremony + timedelta(minutes=20))
    small = make(weddings=[wedding(ceremony, guests=60)])[0].backfill(*span, step_s=60)
    large = make(weddings=[wedding(ceremony, guests=250)])[0].backfill(*span, step_s=60)
    assert np.all(values(large, "api", "request_rate") > 1.5 * values(small, "api", "request_rate"))


def test_scaling_up_lowers_cpu_and_latency_after_the_provisioning_delay():
    sim, cluster = make(weddings=[wedding(T0 - timedelta(minutes=30))])  # ceremony under way
    clock = ManualClock(T0)
    sim.collect(T0)
    before = run(sim, clock, 120)
    order_at = clock.now()
    cluster.scale("api", 40, order_at, "scale-api")
    during = run(sim, clock, 55)    # api's provisioning delay is 60 s
    clock.advance(seconds=5)        # the instances are ready now
    after = run(sim, clock, 120)

    assert values(before, "api", "cpu_pct").mean() > 95          # overloaded
    assert values(before, "api", "error_rate_pct").mean() > 5
    assert np.all(values(during, "api", "instances_pending") == 32)
    assert values(during, "api", "cpu_pct").mean() > 95           # nothing changes yet
    assert np.all(values(after, "api", "instances_ready") == 40)
    assert np.all(values(after, "api", "instances_pending") == 0)
    assert values(after, "api", "cpu_pct").mean() < 0.7 * values(before, "api", "cpu_pct").mean()
    assert values(after, "api", "error_rate_pct").mean() < 1
    # The backlog built up in the overload drains within the first minute; then latency is low.
    queue = values(after, "api", "queue_depth")
    assert np.all(np.diff(queue[:8]) < 0) and queue[-1] < 0.01 * values(before, "api", "queue_depth")[-1]
    last_minute_p95 = values(after, "api", "latency_p95_ms")[-12:]
    assert last_minute_p95.max() < 0.05 * values(before, "api", "latency_p95_ms").mean()


def test_utilisation_drives_cpu_latency_and_errors():
    quiet, _ = make(sizes={**SIZES, "api": 30})
    busy, cluster = make(sizes={**SIZES, "api": 30})
    cluster.scale("api", 7, T0 - timedelta(hours=1), "few")
    for sim in (quiet, busy):
        sim.collect(T0)
    idle = quiet.collect(T0 + timedelta(minutes=5))
    loaded = busy.collect(T0 + timedelta(minutes=5))
    assert values(loaded, "api", "cpu_pct").mean() > values(idle, "api", "cpu_pct").mean()
    assert values(loaded, "api", "latency_p50_ms").mean() > values(idle, "api", "latency_p50_ms").mean()
    for batch in (idle, loaded):
        assert np.all(values(batch, "api", "latency_p95_ms") >= values(batch, "api", "latency_p50_ms"))
        assert np.all((values(batch, "api", "cpu_pct") >= 0) & (values(batch, "api", "cpu_pct") <= 100))
        mem = values(batch, "api", "memory_pct")
        assert np.all((mem >= 40) & (mem <= 70))


@pytest.mark.parametrize("kind, metric, check", [
    ("latency_spike", "latency_p95_ms", lambda v: v.min() > 2000),
    ("error_burst", "error_rate_pct", lambda v: v.min() > 5),
    ("memory_leak", "memory_pct", lambda v: v[-1] > 90 and v[-1] > v[0] + 30),
])
def test_incidents_distort_only_their_service_and_window(kind, metric, check):
    sim, _ = make(sizes={**SIZES, "api": 20})
    control, _ = make(sizes={**SIZES, "api": 20})
    sim.inject_incident(kind, "api", T0 + timedelta(seconds=60), duration_s=300)
    for s in (sim, control):
        s.collect(T0)
    batch = sim.collect(T0 + timedelta(minutes=8))
    base = control.collect(T0 + timedelta(minutes=8))
    ts = batch.select("api", metric).ts
    active = (ts >= to_epoch_s(T0) + 60) & (ts < to_epoch_s(T0) + 360)
    assert check(values(batch, "api", metric)[active])
    np.testing.assert_array_equal(values(batch, "api", metric)[~active], values(base, "api", metric)[~active])
    np.testing.assert_array_equal(values(batch, "database", metric), values(base, "database", metric))


def test_incident_arguments_are_checked():
    sim, _ = make()
    with pytest.raises(InvalidInput):
        sim.inject_incident("meteor", "api", T0, 60)
    with pytest.raises(NotFound):
        sim.inject_incident("error_burst", "nope", T0, 60)
    with pytest.raises(InvalidInput):
        sim.inject_incident("error_burst", "api", T0, 0)
    incident = sim.inject_incident("error_burst", "api", T0, 60)
    assert sim.incidents(T0 + timedelta(seconds=30)) == [incident]
    assert sim.incidents(T0 + timedelta(seconds=61)) == []


def test_a_stopped_source_returns_empty_batches_until_resumed():
    sim, _ = make()
    clock = ManualClock(T0)
    sim.collect(T0)
    sim.stop()
    assert sim.stopped
    assert len(run(sim, clock, 60)) == 0
    sim.resume()
    batch = sim.collect(clock.advance(seconds=10))
    # Only the steps after the last (withheld) collect: the outage leaves a gap.
    assert sorted(set(batch.ts)) == [to_epoch_s(clock.now()) - 5, to_epoch_s(clock.now())]


def test_weddings_may_be_a_callable_calendar():
    calls = []

    def calendar():
        calls.append(1)
        return [wedding(T0)]

    sim = Simulator(DEFAULT_SERVICES, SimulatedCluster(DEFAULT_SERVICES, SIZES), calendar, seed=7)
    listed, _ = make(weddings=[wedding(T0)])
    assert sim.collect(T0).rows() == listed.collect(T0).rows()
    assert calls


def test_backfill_is_well_tuned_history_on_its_own_grid():
    sim, _ = make()
    batch = sim.backfill(T0 - timedelta(days=2), T0, step_s=300)
    assert len(batch) == 2 * 288 * len(NAMES) * len(METRIC_IDS)
    assert batch.ts.max() < to_epoch_s(T0) and np.all(batch.ts % 300 == 0)
    for spec in DEFAULT_SERVICES:
        demand = values(batch, spec.name, "request_rate")
        expected = np.clip(np.ceil(demand / (0.6 * spec.capacity_rps)), spec.min_instances, spec.max_instances)
        np.testing.assert_array_equal(values(batch, spec.name, "instances_ready"), expected)
        assert np.all(values(batch, spec.name, "instances_pending") == 0)
    # Daily and weekly cycles: afternoons busier than nights, Saturday busier than Thursday.
    ts = batch.select("api", "request_rate").ts
    hour = (ts % 86400) // 3600
    api = values(batch, "api", "request_rate")
    assert api[(hour >= 15) & (hour < 19)].mean() > 2.5 * api[(hour >= 2) & (hour < 6)].mean()


def test_ninety_days_backfill_is_fast():
    sim, _ = make(weddings=[wedding(T0 - timedelta(days=d)) for d in range(1, 90, 3)])
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        batch = sim.backfill(T0 - timedelta(days=90), T0, step_s=300)
        best = min(best, time.perf_counter() - started)
    assert len(batch) == 90 * 288 * len(NAMES) * len(METRIC_IDS)
    assert best < 2.0
