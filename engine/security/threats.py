"""Threat detection rules as pure functions over a window of security events.

Each rule takes events (values read from the audit log: sign-ins, denials, scale actions),
the thresholds and ``now``, and returns ``Finding`` values. A finding's ``key`` is what
alerts are deduplicated on: a rule over a sliding window keys on who/where (one alert per
address while it lasts), a rule about one event keys on that event's id.

Rules (thresholds in ``ThreatThresholds``, configurable through ``Settings.threats``):

- brute force from one address: at least ``failures_per_address`` failed sign-ins from one
  address in the window, across any users;
- brute force on one user: failed sign-ins for one user from at least
  ``addresses_per_user`` distinct addresses in the window;
- privilege escalation: at least ``denials_per_actor`` refused requests (403, forged
  callbacks included, outside-window refusals excluded) by one user in the window;
- scaling burst: at least ``scales_per_actor`` manual or emergency scale actions by one user
  in the window;
- unusual service: a user with at least ``min_history`` past scale actions scales a service
  they never scaled before;
- unusual hour: a user with at least ``min_history`` past sign-ins signs in at an hour of day
  (UTC) with no past sign-in within ``hour_slack`` hours of it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

LOGIN_FAILED, LOGIN_OK, DENIED, SCALE = "login_failed", "login_ok", "denied", "scale"


@dataclass(frozen=True)
class ThreatThresholds:
    """Thresholds of the threat rules (defaults chosen for a small operations team)."""

    window_minutes: int = 15
    failures_per_address: int = 10
    addresses_per_user: int = 4
    denials_per_actor: int = 5
    scales_per_actor: int = 6
    min_history: int = 8
    history_days: int = 30
    hour_slack: int = 1
    dedup_minutes: int = 60


@dataclass(frozen=True)
class SecurityEvent:
    """One security-relevant event: ``kind`` is login_failed, login_ok, denied or scale."""

    id: int
    ts: datetime
    kind: str
    actor: str
    source_ip: str = ""
    target: str = ""


@dataclass(frozen=True)
class Finding:
    """Something suspicious: dedup ``key``, the ``rule`` that found it, who, and a summary."""

    key: str
    rule: str
    actor: str
    summary: str


def _in_window(events: Iterable[SecurityEvent], kind: str, since: datetime) -> list[SecurityEvent]:
    return [e for e in events if e.kind == kind and e.ts >= since]


def _grouped(events: Iterable[SecurityEvent], key: Callable[[SecurityEvent], str]
             ) -> list[tuple[str, list[SecurityEvent]]]:
    """Return the events grouped by ``key``, groups in key order (findings come out stable)."""
    groups: dict[str, list[SecurityEvent]] = defaultdict(list)
    for e in events:
        groups[key(e)].append(e)
    return sorted(groups.items())


def detect_brute_force(events: Sequence[SecurityEvent], now: datetime,
                       th: ThreatThresholds) -> list[Finding]:
    """Many failures from one address, or failures for one user from many addresses."""
    failures = _in_window(events, LOGIN_FAILED, now - timedelta(minutes=th.window_minutes))
    found = []
    for address, hits in _grouped(failures, lambda e: e.source_ip):
        if len(hits) >= th.failures_per_address:
            users = sorted({e.actor for e in hits})
            found.append(Finding(f"bruteforce:addr:{address}", "brute_force_address", "",
                                 f"{len(hits)} failed sign-ins from {address or '?'} in "
                                 f"{th.window_minutes} min for {len(users)} user(s): {', '.join(users[:5])}"))
    for user, hits in _grouped(failures, lambda e: e.actor):
        addresses = {e.source_ip for e in hits}
        if len(addresses) >= th.addresses_per_user:
            found.append(Finding(f"bruteforce:user:{user}", "brute_force_user", user,
                                 f"failed sign-ins for {user} from {len(addresses)} addresses in "
                                 f"{th.window_minutes} min"))
    return found


def detect_escalation(events: Sequence[SecurityEvent], now: datetime,
                      th: ThreatThresholds) -> list[Finding]:
    """Repeated refusals (pages, callbacks, API) for one user: probing for rights they lack."""
    denials = _in_window(events, DENIED, now - timedelta(minutes=th.window_minutes))
    found = []
    for actor, hits in _grouped(denials, lambda e: e.actor):
        if len(hits) >= th.denials_per_actor:
            targets = sorted({e.target for e in hits})
            found.append(Finding(f"escalation:{actor}", "privilege_escalation", actor,
                                 f"{actor} was refused {len(hits)} times in {th.window_minutes} min: "
                                 f"{', '.join(targets[:5])}"))
    return found


def detect_scaling_burst(events: Sequence[SecurityEvent], now: datetime,
                         th: ThreatThresholds) -> list[Finding]:
    """Many scale actions by one person in the window."""
    scales = _in_window(events, SCALE, now - timedelta(minutes=th.window_minutes))
    return [Finding(f"scaleburst:{actor}", "scaling_burst", actor,
                    f"{actor} made {len(hits)} scale actions in {th.window_minutes} min")
            for actor, hits in _grouped(scales, lambda e: e.actor) if len(hits) >= th.scales_per_actor]


def detect_unusual_service(recent: Sequence[SecurityEvent], history: Sequence[SecurityEvent],
                           th: ThreatThresholds) -> list[Finding]:
    """A scale action on a service the user has never scaled, once they have a history.

    ``history`` holds the user's earlier scale events (before the window); ``recent`` the
    ones to judge.
    """
    usual: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for e in history:
        if e.kind == SCALE:
            usual[e.actor].add(e.target)
            counts[e.actor] += 1
    found = []
    for e in recent:
        if e.kind == SCALE and counts[e.actor] >= th.min_history and e.target not in usual[e.actor]:
            found.append(Finding(f"service:{e.id}", "unusual_service", e.actor,
                                 f"{e.actor} scaled {e.target}, a service they never scaled before "
                                 f"(usual: {', '.join(sorted(usual[e.actor]))})"))
    return found


def _hour_distance(a: int, b: int) -> int:
    diff = abs(a - b) % 24
    return min(diff, 24 - diff)


def detect_unusual_hour(recent: Sequence[SecurityEvent], history: Sequence[SecurityEvent],
                        th: ThreatThresholds) -> list[Finding]:
    """A sign-in at an hour (UTC) far from every earlier sign-in of that user.

    Learned per user from ``history`` (their earlier successful sign-ins); users with fewer
    than ``min_history`` sign-ins are not judged, so a new colleague does not alert.
    """
    hours: dict[str, list[int]] = defaultdict(list)
    for e in history:
        if e.kind == LOGIN_OK:
            hours[e.actor].append(e.ts.hour)
    found = []
    for e in recent:
        past = hours.get(e.actor, [])
        if e.kind != LOGIN_OK or len(past) < th.min_history:
            continue
        if all(_hour_distance(e.ts.hour, h) > th.hour_slack for h in past):
            span = f"{min(past):02d}:00–{max(past) + 1:02d}:00"
            found.append(Finding(f"hour:{e.id}", "unusual_hour", e.actor,
                                 f"{e.actor} signed in at {e.ts:%H:%M} UTC; their sign-ins fall "
                                 f"within {span} UTC"))
    return found


def detect_threats(recent: Sequence[SecurityEvent], history: Sequence[SecurityEvent],
                   now: datetime, th: ThreatThresholds) -> list[Finding]:
    """Run every rule; ``recent`` is the window's events, ``history`` the earlier ones."""
    return (detect_brute_force(recent, now, th) + detect_escalation(recent, now, th)
            + detect_scaling_burst(recent, now, th) + detect_unusual_service(recent, history, th)
            + detect_unusual_hour(recent, history, th))
