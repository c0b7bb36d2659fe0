"""Call a registered Dash callback over HTTP the way the browser does, by its output ids."""

from __future__ import annotations

import json


def callback_key(app, outputs: tuple[str, ...]) -> str:
    """Return the callback_map key whose outputs (``id.property``, any order) are ``outputs``."""
    wanted = tuple(sorted(outputs))
    for key in app.callback_map:
        ids = tuple(sorted(o.split("@")[0] for o in key.strip(".").split("...")))
        if ids == wanted:
            return key
    raise KeyError(f"no callback with outputs {wanted}")


def post_callback(app, client, outputs: tuple[str, ...], trigger: str, values: dict):
    """POST the callback with ``outputs``; ``values`` maps ``id.property`` of its inputs and
    state to what the browser would send (missing ones are None); ``trigger`` is the changed
    input. Return the Flask response."""
    key = callback_key(app, outputs)
    spec = app.callback_map[key]
    ordered = [o.split("@")[0] for o in key.strip(".").split("...")]

    def items(deps):
        return [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                for d in deps]

    body = {"output": key,
            "outputs": [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in ordered],
            "inputs": items(spec["inputs"]), "state": items(spec["state"]), "changedPropIds": [trigger]}
    if len(ordered) == 1:
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", json=body)


def answer(response) -> dict:
    """Return ``{"id.property": value}`` of a 200 callback response."""
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    payload = json.loads(response.get_data(as_text=True))["response"]
    return {f"{ident}.{prop}": value for ident, props in payload.items() for prop, value in props.items()}
