"""Threat rules, pure: each rule fires on its pattern and stays quiet just under its threshold."""

from __future__ import annotations

from datetime import timedelta

from engine.security.threats import (
    DENIED,
    LOGIN_FAILED,
    LOGIN_OK,
    SCALE,
    SecurityEvent,
    ThreatThresholds,
    detect_brute_force,
    detect_escalation,
    detect_scaling_burst,
    detect_threats,
    detect_unusual_hour,
    detect_unusual_service,
)
from tests.conftest import T0

TH = ThreatThresholds()


def events(kind, n, *, actor="eve", ip="10.0.0.9", target="", start=T0 - timedelta(minutes=5),
           step=timedelta(seconds=10), first_id=1):
    return [SecurityEvent(first_id + i, start + i * step, kind, actor(i) if callable(actor) else actor,
                          ip(i) if callable(ip) else ip, target) for i in range(n)]


def test_many_failures_from_one_address_across_users():
    failing = events(LOGIN_FAILED, TH.failures_per_address, actor=lambda i: f"user{i % 4}")
    found = detect_brute_force(failing, T0, TH)
    assert [f.rule for f in found] == ["brute_force_address"]
    assert "10.0.0.9" in found[0].summary and found[0].key == "bruteforce:addr:10.0.0.9"
    assert detect_brute_force(failing[:-1], T0, TH) == []


def test_failures_outside_the_window_do_not_count():
    old = events(LOGIN_FAILED, 50, start=T0 - timedelta(minutes=TH.window_minutes + 20), step=timedelta(seconds=1))
    assert detect_brute_force(old, T0, TH) == []


def test_one_user_from_many_addresses():
    spread = events(LOGIN_FAILED, TH.addresses_per_user, actor="alice", ip=lambda i: f"192.0.2.{i}")
    found = detect_brute_force(spread, T0, TH)
    assert [(f.rule, f.actor) for f in found] == [("brute_force_user", "alice")]
    assert detect_brute_force(spread[:-1], T0, TH) == []


def test_repeated_refusals_are_an_escalation_attempt():
    denials = events(DENIED, TH.denials_per_actor, actor="vic", target="/_dash-update-component")
    found = detect_escalation(denials, T0, TH)
    assert [(f.rule, f.actor) for f in found] == [("privilege_escalation", "vic")]
    assert "/_dash-update-component" in found[0].summary
    assert detect_escalation(denials[:-1], T0, TH) == []


def test_many_scale_actions_in_a_short_window():
    burst = events(SCALE, TH.scales_per_actor, actor="olga", target="api")
    assert [f.rule for f in detect_scaling_burst(burst, T0, TH)] == ["scaling_burst"]
    assert detect_scaling_burst(burst[:-1], T0, TH) == []


def test_scaling_a_service_outside_the_users_usual_ones():
    history = events(SCALE, TH.min_history, actor="olga", target="api", start=T0 - timedelta(days=3),
                     step=timedelta(hours=1), first_id=100)
    usual = events(SCALE, 1, actor="olga", target="api", first_id=500)
    odd = events(SCALE, 1, actor="olga", target="database", first_id=501)
    assert detect_unusual_service(usual, history, TH) == []
    found = detect_unusual_service(odd, history, TH)
    assert [(f.rule, f.key) for f in found] == [("unusual_service", "service:501")]
    # Too little history to know what is usual: no judgement.
    assert detect_unusual_service(odd, history[:-1], TH) == []


def test_sign_in_at_an_unusual_hour_for_that_user():
    # Ten working-day sign-ins between 08:00 and 10:00 UTC.
    history = [SecurityEvent(100 + d, (T0 - timedelta(days=d + 1)).replace(hour=8 + d % 3), LOGIN_OK, "olga")
               for d in range(10)]
    at_night = [SecurityEvent(900, T0.replace(hour=3, minute=12), LOGIN_OK, "olga")]
    at_work = [SecurityEvent(901, T0.replace(hour=9), LOGIN_OK, "olga")]
    found = detect_unusual_hour(at_night, history, TH)
    assert [(f.rule, f.key) for f in found] == [("unusual_hour", "hour:900")]
    assert "03:12" in found[0].summary
    assert detect_unusual_hour(at_work, history, TH) == []
    # One hour of slack: 11:xx is next to a 10:xx sign-in.
    assert detect_unusual_hour([SecurityEvent(902, T0.replace(hour=11), LOGIN_OK, "olga")], history, TH) == []
    assert detect_unusual_hour(at_night, history[:TH.min_history - 1], TH) == []


def test_hours_wrap_around_midnight():
    history = [SecurityEvent(100 + d, (T0 - timedelta(days=d + 1)).replace(hour=23), LOGIN_OK, "nina")
               for d in range(10)]
    assert detect_unusual_hour([SecurityEvent(1, T0.replace(hour=0), LOGIN_OK, "nina")], history, TH) == []


def test_thresholds_are_configuration():
    failing = events(LOGIN_FAILED, 3)
    assert detect_brute_force(failing, T0, TH) == []
    assert detect_brute_force(failing, T0, ThreatThresholds(failures_per_address=3)) != []


def test_quiet_traffic_raises_nothing():
    normal = (events(LOGIN_OK, 5, actor=lambda i: f"u{i}") + events(LOGIN_FAILED, 2)
              + events(SCALE, 2, target="api") + events(DENIED, 1))
    assert detect_threats(normal, [], T0, TH) == []
