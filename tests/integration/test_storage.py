"""Storage on SQLite and PostgreSQL: migrations, accounts, tokens and the audit chain in SQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from engine.clock import ManualClock
from engine.security.accounts import Accounts
from engine.security.audit import AuditLog
from engine.security.passwords import passwords_for
from engine.security.permissions import Role
from engine.security.tokens import Tokens
from engine.storage.db import Database
from engine.storage.schema import current_revision, head_revision, is_current, upgrade
from tests.conftest import T0, TEST_ACTOR, TEST_SECRET


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def services(database):
    clock = ManualClock(T0)
    audit = AuditLog(TEST_SECRET)
    return clock, audit, Accounts(audit, clock, passwords=passwords_for("fast")), Tokens(audit, clock)


def test_migrations_reach_head(database):
    assert current_revision(database) == head_revision()
    assert is_current(database)


def test_upgrade_is_idempotent(database):
    upgrade(database.url)
    assert is_current(database)


def test_user_lifecycle(database, services):
    clock, audit, accounts, _ = services
    with database.session() as s:
        accounts.create_user(s, "olga", "secret-pw", Role.SCALABILITY_OPERATOR, TEST_ACTOR)
    with database.session() as s:
        assert accounts.sign_in(s, "olga", "secret-pw", "10.0.0.1").user is not None
        assert accounts.sign_in(s, "olga", "bad", "10.0.0.1").user is None
        accounts.set_role(s, "olga", Role.SCALABILITY_ADMIN, TEST_ACTOR)
    with database.session() as s:
        user = accounts.get(s, "olga")
        assert user.role == "scalability_admin" and user.session_version == 2
        stored = s.execute(text("SELECT password_hash FROM users WHERE username='olga'")).scalar()
        assert stored.startswith("$argon2id$")
        assert audit.verify(s).ok


def test_token_is_stored_hashed(database, services):
    _clock, _audit, accounts, tokens = services
    with database.session() as s:
        user = accounts.create_user(s, "bot", "secret-pw", Role.SCALABILITY_VIEWER, TEST_ACTOR)
        row, token = tokens.create(s, user, ["metrics:read"], None, TEST_ACTOR)
    with database.session() as s:
        stored = s.execute(text("SELECT token_hash FROM api_tokens")).scalar()
        assert token not in stored and len(stored) == 64
        assert tokens.authenticate(s, token).user.username == "bot"


def _append(database, audit, clock, n):
    for i in range(n):
        clock.advance(seconds=1)
        with database.session() as s:
            audit.record(s, now=clock.now(), actor=TEST_ACTOR, action="test.event", outcome="ok",
                         target=f"t{i}", reason="because")


@pytest.mark.parametrize("tamper, bad_id", [
    ("UPDATE audit_log SET reason='edited' WHERE id=3", 3),
    ("DELETE FROM audit_log WHERE id=3", 4),
    ("DELETE FROM audit_log WHERE id=5", 5),
    ("UPDATE audit_log SET id=100 WHERE id=2", 3),
])
def test_audit_tampering_is_detected(database, services, tamper, bad_id):
    clock, audit, _accounts, _tokens = services
    _append(database, audit, clock, 5)
    with database.session() as s:
        assert audit.verify(s).ok
        s.execute(text(tamper))
    with database.session() as s:
        report = audit.verify(s)
    assert not report.ok
    assert report.bad_id == bad_id


def test_concurrent_writers_keep_one_chain(database, services):
    clock, audit, _accounts, _tokens = services
    errors = []

    def writer(k):
        try:
            for i in range(10):
                with database.session() as s:
                    audit.record(s, now=clock.now(), actor=TEST_ACTOR, action="test.concurrent",
                                 outcome="ok", target=f"{k}-{i}")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with database.session() as s:
        report = audit.verify(s)
    assert report.ok and report.rows == 40
