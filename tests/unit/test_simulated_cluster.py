"""SimulatedCluster: provisioning delay, idempotent orders, scale-down cancels pending first."""

from datetime import datetime, timedelta, timezone

import pytest

from engine.actuators.simulated import SimulatedCluster
from engine.errors import InvalidInput, NotFound
from engine.services import DEFAULT_SERVICES

T0 = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)
API_DELAY = timedelta(seconds=60)  # api's provisioning_delay_s in DEFAULT_SERVICES


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def cluster() -> SimulatedCluster:
    return SimulatedCluster(DEFAULT_SERVICES, initial={"api": 2})


def test_starts_at_initial_or_min_instances():
    cluster = SimulatedCluster(DEFAULT_SERVICES, initial={"api": 7})
    assert cluster.sizes("api", T0) == (7, 0)
    assert cluster.sizes("database", T0) == (2, 0)  # its min_instances
    assert cluster.target("api") == 7


def test_scale_up_is_pending_until_the_provisioning_delay(cluster):
    cluster.scale("api", 5, T0, "o-1")
    assert cluster.sizes("api", T0) == (2, 3)
    assert cluster.sizes("api", T0 + API_DELAY - timedelta(seconds=1)) == (2, 3)
    assert cluster.sizes("api", T0 + API_DELAY) == (5, 0)
    assert cluster.target("api") == 5


def test_delay_is_per_service(cluster):
    cluster.scale("database", 4, T0, "o-db")  # database: 180 s
    assert cluster.sizes("database", at(179)) == (2, 2)
    assert cluster.sizes("database", at(180)) == (4, 0)


def test_a_retried_order_id_never_scales_twice(cluster):
    cluster.scale("api", 4, T0, "same")
    cluster.scale("api", 4, at(1), "same")
    cluster.scale("api", 9, at(2), "same")  # even with another target: first one wins
    assert cluster.sizes("api", at(3)) == (2, 2)
    assert [o.order_id for o in cluster.orders] == ["same"]
    cluster.scale("api", 6, at(4), "other")
    assert cluster.target("api") == 6
    assert cluster.order("other").ready_before == 2 and cluster.order("other").pending_before == 2


def test_scale_down_cancels_pending_first_newest_first(cluster):
    cluster.scale("api", 4, T0, "a")        # +2, ready at 60 s
    cluster.scale("api", 6, at(30), "b")    # +2, ready at 90 s
    cluster.scale("api", 4, at(40), "c")    # -2: cancels b's two, keeps a's
    assert cluster.sizes("api", at(40)) == (2, 2)
    assert cluster.sizes("api", at(60)) == (4, 0)
    assert cluster.sizes("api", at(200)) == (4, 0)


def test_scale_down_removes_ready_at_once_after_pending(cluster):
    cluster.scale("api", 5, T0, "up")            # 2 ready, 3 pending
    cluster.scale("api", 1, at(10), "down")      # cancels 3 pending, removes 1 ready
    assert cluster.sizes("api", at(10)) == (1, 0)
    assert cluster.sizes("api", at(100)) == (1, 0)


def test_sizes_answer_for_past_times_exactly(cluster):
    cluster.scale("api", 8, at(100), "late")
    assert cluster.sizes("api", at(50)) == (2, 0)     # before the order
    assert cluster.sizes("api", at(100)) == (2, 6)
    assert cluster.sizes("api", at(160)) == (8, 0)


def test_an_order_dated_before_the_last_one_applies_at_the_last_time(cluster):
    cluster.scale("api", 4, at(100), "first")
    cluster.scale("api", 6, at(50), "backdated")
    assert cluster.sizes("api", at(99)) == (2, 0)
    assert cluster.sizes("api", at(100)) == (2, 4)


def test_target_is_not_clamped_to_the_policy_limits(cluster):
    cluster.scale("api", 0, T0, "zero")
    assert cluster.sizes("api", T0) == (0, 0)


@pytest.mark.parametrize("service, target, error", [
    ("nope", 3, NotFound),
    ("api", -1, InvalidInput),
    ("api", 2.5, InvalidInput),
    ("api", True, InvalidInput),
])
def test_rejects_bad_orders(cluster, service, target, error):
    with pytest.raises(error):
        cluster.scale(service, target, T0, "bad")
    assert cluster.orders == []


def test_unknown_service_sizes(cluster):
    with pytest.raises(NotFound):
        cluster.sizes("nope", T0)


def test_preset_sets_the_starting_sizes_only_before_any_order():
    from datetime import datetime, timezone

    import pytest

    from engine.actuators.simulated import SimulatedCluster
    from engine.errors import InvalidInput
    from engine.services import DEFAULT_SERVICES

    cluster = SimulatedCluster(DEFAULT_SERVICES)
    now = datetime(2026, 6, 13, 12, tzinfo=timezone.utc)
    cluster.preset({"api": 7})
    assert cluster.sizes("api", now) == (7, 0)
    cluster.scale("api", 8, now, "order-1")
    with pytest.raises(InvalidInput):
        cluster.preset({"api": 3})
