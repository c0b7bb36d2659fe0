"""Sign-in, sessions and tokens through the real Flask app and SQL."""

from __future__ import annotations

from engine.security.permissions import Role
from engine.storage.models import AuditEntry, User
from tests.conftest import TEST_ACTOR, create_user, csrf_of, sign_in


def audit_actions(engine, action):
    with engine.db.session() as session:
        return session.query(AuditEntry).filter_by(action=action).all()


def test_sign_in_and_out_are_audited(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    response = sign_in(client, "olga", password, next_url="/live")
    assert response.status_code == 302 and response.headers["Location"] == "/live"
    assert client.get("/live").status_code == 200
    client.post("/logout")
    assert client.get("/live").status_code == 302
    assert [r.outcome for r in audit_actions(engine, "login")] == ["ok"]
    assert len(audit_actions(engine, "logout")) == 1


def test_login_form_requires_csrf(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    response = client.post("/login", data={"username": "olga", "password": password})
    assert response.status_code == 400
    assert client.get("/live").status_code == 302


def test_wrong_password_and_unknown_user_read_the_same(client, engine):
    create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    wrong = sign_in(client, "olga", "nope")
    unknown = sign_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password" in wrong.get_data(as_text=True)
    assert "Wrong user name or password" in unknown.get_data(as_text=True)


def test_five_failures_lock_the_user_for_15_minutes(client, engine, clock):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    for _ in range(5):
        clock.advance(seconds=30)
        assert sign_in(client, "olga", "wrong").status_code == 401
    locked = sign_in(client, "olga", password)
    assert locked.status_code == 429 and "locked until" in locked.get_data(as_text=True)
    assert len(audit_actions(engine, "user.lock")) == 1
    clock.advance(minutes=16)
    assert sign_in(client, "olga", password).status_code == 302


def test_replayed_cookie_after_logout_is_refused(app, client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    sign_in(client, "olga", password)
    cookie = client.get_cookie("session").value
    client.post("/logout")
    replay = app.server.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/live").status_code == 302
    assert replay.get("/api/scalability/status").status_code == 401


def test_role_change_ends_the_users_sessions(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_ADMIN)
    sign_in(client, "olga", password)
    assert client.get("/audit").status_code == 200
    with engine.db.session() as session:
        engine.accounts.set_role(session, "olga", Role.SCALABILITY_VIEWER, TEST_ACTOR)
    assert client.get("/audit").status_code == 302  # signed out, not merely demoted


def test_disabling_a_user_ends_sessions_and_blocks_sign_in(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    sign_in(client, "olga", password)
    with engine.db.session() as session:
        engine.accounts.set_disabled(session, "olga", True, TEST_ACTOR)
    assert client.get("/live").status_code == 302
    assert sign_in(client, "olga", password).status_code == 401


def test_idle_session_expires(client, engine, clock):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    sign_in(client, "olga", password)
    clock.advance(minutes=20)
    assert client.get("/live").status_code == 200   # activity keeps it alive
    clock.advance(minutes=29)
    assert client.get("/live").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/live").status_code == 302


def test_foreign_origin_is_refused_for_state_changes(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    page = client.get("/login")
    response = client.post("/login", headers={"Origin": "https://evil.example"},
                           data={"username": "olga", "password": password,
                                 "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 403
    sign_in(client, "olga", password)
    forged = client.post("/_dash-update-component", headers={"Origin": "https://evil.example"},
                         json={"output": "page-content.children"})
    assert forged.status_code == 403


def test_next_parameter_cannot_redirect_off_site(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    response = sign_in(client, "olga", password, next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client, engine):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    response = sign_in(client, "olga", password)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def _token(engine, user, scopes=(), days=None):
    with engine.db.session() as session:
        row, token = engine.tokens.create(session, session.query(User).filter_by(username=user).one(),
                                          list(scopes), days, TEST_ACTOR)
    return row.id, token


def test_bearer_token_uses_the_users_role(app, engine):
    create_user(engine, "bot", Role.SCALABILITY_VIEWER)
    _id, token = _token(engine, "bot")
    client = app.server.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/scalability/status", headers=auth).status_code == 200
    assert client.get("/api/audit", headers=auth).status_code == 403
    assert client.get("/api/scalability/status",
                      headers={"Authorization": "Bearer wst_made-up"}).status_code == 401


def test_scoped_token_is_narrowed(app, engine):
    create_user(engine, "root", Role.SCALABILITY_ADMIN)
    _id, token = _token(engine, "root", scopes=["metrics:read"])
    client = app.server.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/scalability/status", headers=auth).status_code == 200
    assert client.get("/api/audit", headers=auth).status_code == 403


def test_revoked_and_expired_tokens_are_refused(app, engine, clock):
    create_user(engine, "bot", Role.SCALABILITY_VIEWER)
    revoked_id, revoked = _token(engine, "bot")
    _id, expiring = _token(engine, "bot", days=1)
    with engine.db.session() as session:
        engine.tokens.revoke(session, revoked_id, TEST_ACTOR)
    client = app.server.test_client()
    assert client.get("/api/scalability/status",
                      headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
    assert client.get("/api/scalability/status",
                      headers={"Authorization": f"Bearer {expiring}"}).status_code == 200
    clock.advance(days=2)
    assert client.get("/api/scalability/status",
                      headers={"Authorization": f"Bearer {expiring}"}).status_code == 401
