"""Access hours on the Users page through the real Flask app: set and clear a user's or a
role's window, clear messages for bad input, one audit row per change, and the confirmation
an admin must give before shutting themselves out.

The clock stands at T0, Saturday 2026-06-13 14:00 UTC.
"""

from __future__ import annotations

import pytest

from app.pages.user_windows import CONFIRMED_REASON
from engine.security.permissions import Role
from engine.storage.models import AccessWindowRow, AuditEntry
from tests.callbacks import answer, post_callback
from tests.conftest import create_user

CHANGE = ("windows-confirm-box.hidden", "windows-confirm.value", "windows-days.invalid", "windows-end.invalid",
          "windows-feedback.children", "windows-start.invalid", "windows-table-box.children",
          "windows-zone.invalid")
WEEKDAYS = {"days": "Mon-Fri", "start": "08:00", "end": "18:00", "zone": "Europe/London"}
WEEKEND = {"days": "Sat-Sun", "start": "09:00", "end": "17:00", "zone": "UTC"}   # covers T0


def change(app, client, button: str, subject, fields=None, confirmed=False, status=200):
    """Press Set (``button="set"``) or Clear for ``subject``; return the answer by ``id.prop``."""
    fields = fields or WEEKDAYS
    values = {f"windows-{button}.n_clicks": 1, "windows-subject.value": subject,
              "windows-days.value": fields["days"], "windows-start.value": fields["start"],
              "windows-end.value": fields["end"], "windows-zone.value": fields["zone"],
              "windows-confirm.value": confirmed}
    response = post_callback(app, client, CHANGE, f"windows-{button}.n_clicks", values)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return answer(response) if status == 200 else None


def feedback(out) -> tuple[str, str]:
    props = out["windows-feedback.children"]["props"]
    return props["id"], props["children"]


def stored(engine) -> list[tuple[str, str, str, str, str, str]]:
    with engine.db.session() as session:
        return [(r.subject_kind, r.subject, r.days, r.start_time, r.end_time, r.timezone)
                for r in session.query(AccessWindowRow).order_by(AccessWindowRow.id)]


def audits(engine, action_prefix: str = "access_window.") -> list[AuditEntry]:
    with engine.db.session() as session:
        rows = session.query(AuditEntry).filter(AuditEntry.action.like(f"{action_prefix}%"))
        return [r for r in rows.order_by(AuditEntry.id)]


def test_admin_sets_and_clears_a_users_window(app, login_as, engine):
    create_user(engine, "dora", Role.SCALABILITY_OPERATOR)
    admin = login_as(Role.SCALABILITY_ADMIN)
    page = admin.get("/users")
    assert page.status_code == 200

    out = change(app, admin, "set", "user:dora", {**WEEKDAYS, "days": " mon-fri ", "start": " 08:00"})
    assert feedback(out) == ("windows-ok", "dora may now act only Mon–Fri 08:00–18:00 Europe/London.")
    assert stored(engine) == [("user", "dora", "0,1,2,3,4", "08:00", "18:00", "Europe/London")]
    table = str(out["windows-table-box.children"])
    assert "dora" in table and "Mon–Fri 08:00–18:00 Europe/London" in table and "closed now" in table
    assert [out[f"windows-{f}.invalid"] for f in ("days", "start", "end", "zone")] == [False] * 4

    out = change(app, admin, "clear", "user:dora")
    assert feedback(out)[0] == "windows-ok" and "1 window(s) removed" in feedback(out)[1]
    assert stored(engine) == []
    rows = audits(engine)
    assert [(r.action, r.actor, r.target, r.outcome, r.reason) for r in rows] == [
        ("access_window.set", "admin", "user:dora", "ok", ""),
        ("access_window.clear", "admin", "user:dora", "ok", "")]
    with engine.db.session() as session:
        assert engine.audit.verify(session).ok


def test_a_role_window_binds_its_people_like_the_cli_one(app, login_as, engine, client):
    admin = login_as(Role.SCALABILITY_ADMIN)
    out = change(app, admin, "set", "role:scalability_viewer")
    assert feedback(out) == ("windows-ok", "Every viewer may now act only Mon–Fri 08:00–18:00 Europe/London.")
    assert stored(engine) == [("role", "scalability_viewer", "0,1,2,3,4", "08:00", "18:00", "Europe/London")]
    with engine.db.session() as session:
        verdict = engine.access_windows.check(session, "someone", Role.SCALABILITY_VIEWER.value, engine.clock.now())
    assert not verdict.allowed and "viewers" in verdict.message


@pytest.mark.parametrize("fields, bad_field, words", [
    ({**WEEKDAYS, "days": "Funday"}, "days", ["unknown day 'Funday'", "Mon-Fri"]),
    ({**WEEKDAYS, "days": "  "}, "days", ["at least one day"]),
    ({**WEEKDAYS, "days": "Mon-"}, "days", ["unknown day"]),
    ({**WEEKDAYS, "start": "8am"}, "start", ["start must be HH:MM", "24-hour"]),
    ({**WEEKDAYS, "start": "08:00:00"}, "start", ["start must be HH:MM"]),
    ({**WEEKDAYS, "end": "25:00"}, "end", ["end must be between 00:00 and 24:00"]),
    ({**WEEKDAYS, "end": "08:00"}, "end", ["start and end must differ"]),
    ({**WEEKDAYS, "zone": "Mars/Base"}, "zone", ["unknown time zone 'Mars/Base'", "IANA"]),
    ({**WEEKDAYS, "zone": "../../etc/passwd"}, "zone", ["unknown time zone"]),
    ({**WEEKDAYS, "zone": ""}, "zone", ["unknown time zone"]),
])
def test_bad_input_says_what_is_wrong_marks_the_field_and_changes_nothing(app, login_as, engine, fields,
                                                                          bad_field, words):
    admin = login_as(Role.SCALABILITY_ADMIN)
    out = change(app, admin, "set", "role:scalability_operator", fields)
    ident, text = feedback(out)
    assert ident == "windows-error" and text.startswith("Not saved: ")
    for word in words:
        assert word in text
    assert [f for f in ("days", "start", "end", "zone") if out[f"windows-{f}.invalid"]] == [bad_field]
    assert stored(engine) == [] and audits(engine) == []


@pytest.mark.parametrize("subject, words", [
    (None, "Choose a user or a role first."),
    ("user:ghost", "no user named 'ghost'"),
    ("role:root", "There is no role 'root'."),
    ("nonsense", "Choose a user or a role first."),
])
def test_unknown_subjects_are_refused_with_a_message(app, login_as, engine, subject, words):
    admin = login_as(Role.SCALABILITY_ADMIN)
    for button in ("set", "clear"):
        out = change(app, admin, button, subject)
        assert feedback(out) == ("windows-error", words)
    assert stored(engine) == [] and audits(engine) == []


def test_forged_value_types_are_a_400(app, login_as, engine):
    admin = login_as(Role.SCALABILITY_ADMIN)
    change(app, admin, "set", "user:admin", {**WEEKDAYS, "days": ["Mon"]}, status=400)
    change(app, admin, "set", "user:admin", {**WEEKDAYS, "zone": {"x": 1}}, status=400)
    assert stored(engine) == []


def test_shutting_yourself_out_needs_a_confirmation_then_is_audited_as_such(app, login_as, engine):
    admin = login_as(Role.SCALABILITY_ADMIN)
    out = change(app, admin, "set", "role:scalability_admin")              # Mon-Fri: not now (Saturday)
    ident, text = feedback(out)
    assert ident == "windows-confirm-needed"
    assert "would shut you out right now" in text and "Mon–Fri 08:00–18:00 Europe/London" in text
    assert out["windows-confirm-box.hidden"] is False and out["windows-confirm.value"] is False
    assert stored(engine) == [] and audits(engine) == []

    out = change(app, admin, "set", "role:scalability_admin", confirmed=True)
    assert feedback(out)[0] == "windows-ok" and out["windows-confirm-box.hidden"] is True
    assert [(r.target, r.reason) for r in audits(engine)] == [("role:scalability_admin", CONFIRMED_REASON)]
    assert admin.get("/users").status_code == 403                         # as the warning said


def test_windows_that_keep_you_in_need_no_confirmation(app, login_as, engine):
    admin = login_as(Role.SCALABILITY_ADMIN)
    assert feedback(change(app, admin, "set", "user:admin", WEEKEND))[0] == "windows-ok"
    # The admin's own window (open now) replaces the admin role's, so this cannot shut them out.
    assert feedback(change(app, admin, "set", "role:scalability_admin"))[0] == "windows-ok"
    # Clearing their own window would leave the role's (closed now): that needs the confirmation.
    assert feedback(change(app, admin, "clear", "user:admin"))[0] == "windows-confirm-needed"
    assert len(stored(engine)) == 2
    assert admin.get("/users").status_code == 200


def test_another_users_window_never_asks_for_a_confirmation(app, login_as, engine):
    create_user(engine, "erin", Role.SCALABILITY_ADMIN)
    admin = login_as(Role.SCALABILITY_ADMIN)
    assert feedback(change(app, admin, "set", "user:erin"))[0] == "windows-ok"


def test_the_subject_list_follows_a_new_user(app, login_as, engine):
    admin = login_as(Role.SCALABILITY_ADMIN)
    values = {"users-create.n_clicks": 1, "users-new-name.value": "fred", "users-new-role.value": "scalability_viewer",
              "users-new-password.value": "a-long-password-123"}
    out = answer(post_callback(app, admin, ("users-feedback.children", "users-pick.options",
                                            "users-table-box.children", "windows-subject.options"),
                               "users-create.n_clicks", values))
    assert {"label": "User: fred", "value": "user:fred"} in out["windows-subject.options"]


@pytest.mark.parametrize("role", [Role.SCALABILITY_VIEWER, Role.WEDDING_COORDINATOR, Role.SCALABILITY_OPERATOR])
def test_non_admins_get_403_and_nothing_changes(app, login_as, engine, role):
    client = login_as(role)
    for button in ("set", "clear"):
        change(app, client, button, "role:scalability_operator", status=403)
    assert stored(engine) == [] and audits(engine) == []
    assert len(audits(engine, "access.denied")) == 2
