"""Time-restricted access: windows (pure), refusal of pages, callbacks and API outside them,
audit, per-user override, break-glass override, the CLI that sets them, and the in-memory
copy of the windows (no query per request; own changes at once, other processes' within the ttl)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from engine.errors import InvalidInput
from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.security.time_windows import check_windows, describe, make_window, parse_days, within
from engine.storage.models import AccessWindowRow, AuditEntry

ADMIN = Actor("root", Role.SCALABILITY_ADMIN.value, "local")
SHIFT = make_window("Mon-Sat", "06:00", "22:00", "Europe/London")
# 2026-06-13 is a Saturday; London is UTC+1 in June.
SAT_NOON = datetime(2026, 6, 13, 11, 0, tzinfo=timezone.utc)        # 12:00 London
SAT_LATE = datetime(2026, 6, 13, 21, 5, tzinfo=timezone.utc)        # 22:05 London
SAT_EVENING = datetime(2026, 6, 13, 20, 50, tzinfo=timezone.utc)    # 21:50 London
SUNDAY = datetime(2026, 6, 14, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("when, inside", [
    (SAT_NOON, True), (SAT_LATE, False), (SUNDAY, False),
    (datetime(2026, 6, 15, 5, 0, tzinfo=timezone.utc), True),        # Mon 06:00 London
    (datetime(2026, 6, 15, 4, 59, tzinfo=timezone.utc), False),      # Mon 05:59 London
    (datetime(2026, 1, 12, 21, 59, tzinfo=timezone.utc), True),      # winter: UTC+0, 21:59
])
def test_window_in_its_time_zone(when, inside):
    assert within(SHIFT, when) is inside


def test_overnight_window_belongs_to_the_day_it_starts():
    night = make_window("Fri", "22:00", "06:00", "UTC")
    assert within(night, datetime(2026, 6, 12, 23, 0, tzinfo=timezone.utc))      # Fri 23:00
    assert within(night, datetime(2026, 6, 13, 5, 0, tzinfo=timezone.utc))       # Sat 05:00
    assert not within(night, datetime(2026, 6, 13, 23, 0, tzinfo=timezone.utc))  # Sat 23:00
    assert not within(night, datetime(2026, 6, 12, 5, 0, tzinfo=timezone.utc))   # Fri 05:00


def test_parsing_and_the_message():
    assert parse_days("Sat-Mon") == {5, 6, 0}
    assert describe(SHIFT) == "Mon–Sat 06:00–22:00 Europe/London"
    verdict = check_windows([SHIFT], SUNDAY, "operators")
    assert not verdict.allowed and "allowed only Mon–Sat 06:00–22:00 Europe/London" in verdict.message
    assert check_windows([], SUNDAY, "x").allowed
    for bad in (("Funday", "06:00", "22:00", "UTC"), ("Mon", "6am", "22:00", "UTC"),
                ("Mon", "06:00", "22:00", "Mars/Base"), ("Mon", "06:00", "06:00", "UTC")):
        with pytest.raises(InvalidInput):
            make_window(*bad)


def restrict(engine, kind, subject, window=SHIFT):
    with engine.db.session() as session:
        engine.access_windows.set_windows(session, kind, subject, [window], ADMIN, engine.clock.now())


def outside_rows(engine):
    with engine.db.session() as session:
        return session.query(AuditEntry).filter_by(action="access.outside_window").all()


@pytest.fixture
def late_operator(login_as, engine, clock):
    """An operator signed in at 21:50 on a Saturday; the operators' shift ends at 22:00 London."""
    clock.set(SAT_EVENING)
    client = login_as(Role.SCALABILITY_OPERATOR)
    restrict(engine, "role", Role.SCALABILITY_OPERATOR.value)
    assert client.get("/api/scalability/status").status_code == 200
    clock.set(SAT_LATE)
    return client


def test_outside_the_window_every_kind_of_request_is_refused_and_audited(app, late_operator, engine):
    api = late_operator.get("/api/scalability/status")
    assert api.status_code == 403
    body = api.get_json()
    assert body["error"] == "outside_access_window"
    assert "allowed only Mon–Sat 06:00–22:00 Europe/London" in body["message"]
    page = late_operator.get("/scaling")
    assert page.status_code == 403 and "Mon–Sat 06:00–22:00 Europe/London" in page.get_data(as_text=True)
    key = next(k for k in app.callback_map if "overview-grid" in k)
    from tests.integration.test_access import _forged_body

    callback = late_operator.post("/_dash-update-component", json=_forged_body(key, app.callback_map[key]))
    assert callback.status_code == 403 and callback.get_json()["error"] == "outside_access_window"
    rows = outside_rows(engine)
    assert [r.target for r in rows] == ["/api/scalability/status", "/scaling", "/_dash-update-component"]
    assert all(r.actor == "operator" and r.outcome == "denied" for r in rows)


def test_other_roles_and_windowless_users_are_not_bound(app, late_operator, engine):
    from tests.conftest import create_user, sign_in

    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    assert admin.get("/api/scalability/status").status_code == 200
    assert outside_rows(engine) == []


def test_a_users_own_window_replaces_the_roles(late_operator, engine):
    restrict(engine, "user", "operator", make_window("Sat", "20:00", "23:00", "Europe/London"))
    assert late_operator.get("/api/scalability/status").status_code == 200


def test_break_glass_overrides_the_window(late_operator, engine):
    taken = late_operator.post("/api/scalability/breakglass", json={"minutes": 15, "reason": "wedding down"})
    assert taken.status_code == 201
    assert late_operator.get("/api/scalability/status").status_code == 200
    assert late_operator.get("/scaling").status_code == 200


def test_break_glass_from_the_refusal_page(late_operator, engine):
    page = late_operator.get("/").get_data(as_text=True)
    assert 'action="/access/breakglass"' in page
    from tests.conftest import csrf_of

    taken = late_operator.post("/access/breakglass", data={"csrf_token": csrf_of(page), "minutes": "10",
                                                           "reason": "ceremony stream down"})
    assert taken.status_code == 302
    assert late_operator.get("/").status_code == 200
    bad = late_operator.post("/access/breakglass", data={"minutes": "10", "reason": "x"})
    assert bad.status_code == 400  # no CSRF token


def test_viewers_cannot_use_the_break_glass_form(login_as):
    client = login_as(Role.SCALABILITY_VIEWER)
    assert client.post("/access/breakglass", data={"minutes": "5", "reason": "x"}).status_code == 403


def test_sign_out_works_outside_the_window(late_operator):
    assert late_operator.post("/logout").status_code == 302
    assert late_operator.get("/api/scalability/status").status_code == 401


def test_cli_sets_lists_and_clears_windows(tmp_path):
    from tests.integration.test_cli import run

    import os

    env = dict(os.environ, WEDSCALE_VAR_DIR=str(tmp_path / "var"),
               WEDSCALE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               WEDSCALE_SECRET_KEY="cli-test-secret-key-0123456789abcdef")
    env.pop("WEDSCALE_DEMO", None)
    run(env, "db", "upgrade")
    out = run(env, "users", "set-window", "--role", "scalability_operator", "--days", "Mon-Sat",
              "--start", "06:00", "--end", "22:00", "--tz", "Europe/London")
    assert "Mon–Sat 06:00–22:00 Europe/London" in out.stdout
    assert "role\tscalability_operator\tMon–Sat 06:00–22:00 Europe/London" in run(env, "users", "windows").stdout
    bad = run(env, "users", "set-window", "--role", "scalability_operator", "--days", "Mon",
              "--start", "06:00", "--end", "22:00", "--tz", "Nowhere/Town", check=False)
    assert bad.returncode != 0 and "unknown time zone" in bad.stderr
    missing = run(env, "users", "set-window", "ghost", "--days", "Mon", "--start", "06:00", "--end", "07:00",
                  check=False)
    assert missing.returncode != 0 and "no user named" in missing.stderr
    assert "1 window(s) removed" in run(env, "users", "clear-window", "--role", "scalability_operator").stdout


@contextmanager
def window_queries(engine):
    """Collect the SQL statements that read the access_windows table while the block runs."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        if "access_windows" in statement:
            seen.append(statement)

    event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", record)


@pytest.fixture
def operator(login_as, engine, clock):
    """An operator signed in at 21:50 on a Saturday, bound by no window yet."""
    clock.set(SAT_EVENING)
    return login_as(Role.SCALABILITY_OPERATOR)


def test_a_warm_cache_answers_without_a_windows_query(operator, engine, clock):
    engine.access_windows.invalidate()
    with window_queries(engine) as cold:
        assert operator.get("/api/scalability/status").status_code == 200
    assert len(cold) == 1  # the whole table, once
    clock.advance(seconds=engine.settings.access_windows_ttl_s - 1)
    with window_queries(engine) as warm:
        assert operator.get("/api/scalability/status").status_code == 200
        assert operator.get("/scaling").status_code == 200
    assert warm == []


def test_a_change_through_the_engine_is_seen_at_once(operator, engine, clock):
    assert operator.get("/api/scalability/status").status_code == 200  # cache warm, no window
    restrict(engine, "role", Role.SCALABILITY_OPERATOR.value, make_window("Sat", "06:00", "21:00", "Europe/London"))
    assert operator.get("/api/scalability/status").status_code == 403  # same instant: no ttl waited
    with engine.db.session() as session:
        engine.access_windows.clear(session, "role", Role.SCALABILITY_OPERATOR.value, ADMIN, engine.clock.now())
    assert operator.get("/api/scalability/status").status_code == 200


def test_a_change_by_another_process_is_seen_within_the_ttl(operator, engine, clock):
    assert operator.get("/api/scalability/status").status_code == 200  # cache warm, no window
    with engine.db.session() as session:  # what another worker's set_windows leaves in the table
        session.add(AccessWindowRow(subject_kind="role", subject=Role.SCALABILITY_OPERATOR.value,
                                    days="5", start_time="06:00", end_time="21:00", timezone="Europe/London",
                                    created_at=engine.clock.now(), created_by="other-worker"))
    assert operator.get("/api/scalability/status").status_code == 200  # not yet: the copy is fresh
    clock.advance(seconds=engine.settings.access_windows_ttl_s - 1)
    assert operator.get("/api/scalability/status").status_code == 200
    clock.advance(seconds=1)
    refused = operator.get("/api/scalability/status")
    assert refused.status_code == 403 and "Sat 06:00–21:00 Europe/London" in refused.get_json()["message"]
