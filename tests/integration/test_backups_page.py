"""The Backups page's callbacks through the real Flask app: back up, verify, restore with the
typed-id confirmation checked on the server."""

from __future__ import annotations

import json

from engine.security.permissions import Role

ACT_OUTPUT = "..backups-feedback.children...backups-grid.rowData...backups-status.children.."
DIALOG_OUTPUT = "..backups-restore-modal.is_open...backups-restore-target.children...backups-restore-typed.value.."


def act_body(trigger: str, selected=None, typed=None) -> dict:
    inputs = [{"id": i, "property": "n_clicks", "value": 1 if i == trigger else None}
              for i in ("backups-create", "backups-verify", "backups-restore-confirm")]
    body = {"output": ACT_OUTPUT,
            "outputs": [{"id": "backups-feedback", "property": "children"},
                        {"id": "backups-grid", "property": "rowData"},
                        {"id": "backups-status", "property": "children"}],
            "inputs": inputs,
            "state": [{"id": "backups-grid", "property": "selectedRows", "value": selected},
                      {"id": "backups-restore-typed", "property": "value", "value": typed}],
            "changedPropIds": [f"{trigger}.n_clicks"]}
    return body


def act(client, trigger: str, selected=None, typed=None):
    response = client.post("/_dash-update-component", json=act_body(trigger, selected, typed))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    payload = json.loads(response.get_data(as_text=True))["response"]
    return payload["backups-feedback"]["children"], payload["backups-grid"]["rowData"]


def test_admin_backs_up_verifies_and_restores_from_the_page(login_as, engine):
    client = login_as(Role.SCALABILITY_ADMIN)
    assert client.get("/backups").status_code == 200
    feedback, rows = act(client, "backups-create")
    assert feedback["props"]["id"] == "backups-ok" and rows[0]["id"] == 1 and rows[0]["kind"] == "manual"
    feedback, rows = act(client, "backups-verify", selected=[rows[0]])
    assert feedback["props"]["id"] == "backups-ok" and rows[0]["state"] == "verified"

    feedback, _ = act(client, "backups-restore-confirm", selected=[rows[0]], typed="2")
    assert feedback["props"]["id"] == "backups-error"
    assert "Type the backup id 1" in feedback["props"]["children"]
    assert len(engine.backups.list()) == 1                      # nothing was restored

    feedback, rows = act(client, "backups-restore-confirm", selected=[rows[0]], typed=" 1 ")
    assert feedback["props"]["id"] == "backups-ok", feedback
    assert [r["kind"] for r in rows] == ["pre-restore", "manual"]
    with engine.db.session() as session:
        assert engine.audit.verify(session).ok


def test_verify_and_restore_need_a_selection(login_as):
    client = login_as(Role.SCALABILITY_ADMIN)
    for trigger in ("backups-verify", "backups-restore-confirm"):
        feedback, _ = act(client, trigger)
        assert "Select a backup" in feedback["props"]["children"]


def test_the_restore_dialog_names_the_selected_backup(login_as):
    client = login_as(Role.SCALABILITY_ADMIN)
    _, rows = act(client, "backups-create")
    body = {"output": DIALOG_OUTPUT,
            "outputs": [{"id": "backups-restore-modal", "property": "is_open"},
                        {"id": "backups-restore-target", "property": "children"},
                        {"id": "backups-restore-typed", "property": "value"}],
            "inputs": [{"id": "backups-restore-open", "property": "n_clicks", "value": 1},
                       {"id": "backups-restore-cancel", "property": "n_clicks", "value": None},
                       {"id": "backups-restore-confirm", "property": "n_clicks", "value": None}],
            "state": [{"id": "backups-grid", "property": "selectedRows", "value": [rows[0]]}],
            "changedPropIds": ["backups-restore-open.n_clicks"]}
    payload = client.post("/_dash-update-component", json=body).get_json()["response"]
    assert payload["backups-restore-modal"]["is_open"] is True
    assert payload["backups-restore-target"]["children"].startswith("Restore backup 1 taken")


def test_operator_cannot_back_up_and_nothing_is_written(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    assert client.get("/backups").status_code == 403
    assert client.post("/_dash-update-component", json=act_body("backups-create")).status_code == 403
    assert engine.backups.list() == []


def test_backups_link_only_for_admins(login_as):
    admin = login_as(Role.SCALABILITY_ADMIN)
    body = {"output": "page-content.children",
            "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/backups"}],
            "changedPropIds": ["url.pathname"], "state": []}
    page = admin.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert "Recovery point (RPO)" in page and "backups-grid" in page
