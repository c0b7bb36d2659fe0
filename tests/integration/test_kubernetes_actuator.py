"""The Kubernetes actuator through the official client against a local fake API server.

The fake speaks the Deployment ``scale`` subresource (GET and PATCH
``/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale``), answers 404 for unknown
Deployments, 409 when told to, honours ``dryRun=All`` and records every request.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client

from engine.actuators.base import ActuatorUnavailable
from engine.actuators.kubernetes import KubernetesActuator
from engine.errors import NotFound
from tests.conftest import T0

SCALE_PATH = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)/scale$")


class FakeKubernetes:
    """State of the fake API server: replicas per (namespace, deployment), requests seen."""

    def __init__(self, deployments: dict[tuple[str, str], int]):
        self.spec = dict(deployments)
        self.status = dict(deployments)  # pods that exist; tests move it by hand
        self.requests: list[dict] = []
        self.conflicts = 0
        self.lock = threading.Lock()

    def scale_json(self, ns: str, name: str) -> dict:
        return {"apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"},
                "spec": {"replicas": self.spec[(ns, name)]},
                "status": {"replicas": self.status[(ns, name)], "selector": f"app={name}"}}


def _handler(state: FakeKubernetes):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, reason: str) -> None:
            self._answer(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "reason": reason, "code": code})

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            body = None
            if method == "PATCH":
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
            with state.lock:
                state.requests.append({"method": method, "path": url.path, "query": parse_qs(url.query),
                                       "body": body, "content_type": self.headers.get("Content-Type")})
                match = SCALE_PATH.match(url.path)
                if not match or (match[1], match[2]) not in state.spec:
                    return self._status(404, "NotFound")
                key = (match[1], match[2])
                if method == "PATCH":
                    if state.conflicts:
                        state.conflicts -= 1
                        return self._status(409, "Conflict")
                    replicas = body["spec"]["replicas"]
                    if not isinstance(replicas, int) or replicas < 0:
                        return self._status(422, "Invalid")
                    if "All" not in parse_qs(url.query).get("dryRun", []):
                        state.spec[key] = replicas
                return self._answer(200, state.scale_json(*key))

        def do_GET(self):
            self._route("GET")

        def do_PATCH(self):
            self._route("PATCH")

    return Handler


@pytest.fixture
def fake_k8s():
    state = FakeKubernetes({("wedding", "api-deployment"): 3, ("wedding", "database"): 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def actuator_for(host: str, **kwargs) -> KubernetesActuator:
    configuration = client.Configuration(host=host)
    configuration.retries = False  # one request per call: retrying is the order desk's job
    api = client.AppsV1Api(client.ApiClient(configuration))
    return KubernetesActuator(api, "wedding", {"api": "api-deployment"}, ["api", "database", "ghost"],
                              request_timeout_s=5.0, **kwargs)


def test_scale_patches_the_scale_subresource_and_sizes_read_it(fake_k8s):
    actuator = actuator_for(fake_k8s.host)
    assert actuator.sizes("api", T0) == (3, 0)
    actuator.scale("api", 5, T0, "decision-1")
    patch = fake_k8s.requests[-1]
    assert patch["method"] == "PATCH" and patch["path"].endswith("/namespaces/wedding/deployments/api-deployment/scale")
    assert patch["body"] == {"spec": {"replicas": 5}} and "dryRun" not in patch["query"]
    assert patch["content_type"] == "application/strategic-merge-patch+json"
    assert actuator.sizes("api", T0) == (3, 2)  # two pods still to be created
    fake_k8s.status[("wedding", "api-deployment")] = 5
    assert actuator.sizes("api", T0) == (5, 0)
    assert actuator.sizes("database", T0) == (2, 0)  # a service without a mapping uses its id


def test_an_order_id_is_applied_once(fake_k8s):
    actuator = actuator_for(fake_k8s.host)
    actuator.scale("api", 6, T0, "decision-1")
    actuator.scale("api", 6, T0, "decision-1")
    assert [r["method"] for r in fake_k8s.requests] == ["PATCH"]


def test_dry_run_sends_dry_run_all_and_leaves_the_cluster_alone(fake_k8s):
    actuator = actuator_for(fake_k8s.host, dry_run=True)
    actuator.scale("api", 9, T0, "decision-1")
    assert fake_k8s.requests[-1]["query"]["dryRun"] == ["All"]
    assert fake_k8s.spec[("wedding", "api-deployment")] == 3
    assert actuator.sizes("api", T0) == (9, 0)  # reported as if applied (see module docstring)


def test_unknown_deployment_is_not_found_and_conflict_is_transient(fake_k8s):
    actuator = actuator_for(fake_k8s.host)
    with pytest.raises(NotFound):
        actuator.scale("ghost", 2, T0, "decision-1")  # mapped to a deployment the server lacks
    with pytest.raises(NotFound):
        actuator.sizes("ghost", T0)
    with pytest.raises(NotFound):
        actuator.scale("nope", 2, T0, "decision-2")  # not a service of ours: no request at all
    fake_k8s.conflicts = 1
    with pytest.raises(ActuatorUnavailable):
        actuator.scale("api", 4, T0, "decision-3")
    actuator.scale("api", 4, T0, "decision-3")  # the retry with the same id goes through
    assert fake_k8s.spec[("wedding", "api-deployment")] == 4
    assert all(r["path"].split("/")[-2] != "nope" for r in fake_k8s.requests)


def test_unreachable_api_server_is_transient():
    actuator = actuator_for("http://127.0.0.1:1")
    with pytest.raises(ActuatorUnavailable):
        actuator.sizes("api", T0)


def test_order_desk_retries_a_conflict_through_the_real_client(fake_k8s, settings, clock):
    """A 409 on the first send: the order is re-sent on the next cycle and verified."""
    from engine.bootstrap import build_engine
    from engine.scaling.manual import ManualRequest
    from engine.security.audit import Actor
    from engine.services import DEFAULT_SERVICES

    actuator = actuator_for(fake_k8s.host)
    actuator.services = ["api"]
    api_only = [s for s in DEFAULT_SERVICES if s.name == "api"]
    engine = build_engine(settings, clock=clock, actuator=actuator, services=api_only, notifiers=[])
    try:
        fake_k8s.conflicts = 1
        (row,) = engine.request_manual_scale([ManualRequest("set", "api", 4, "ceremony")],
                                             Actor("operator", "scalability_operator"), may_approve_large=True)
        assert row.status == "executing" and fake_k8s.spec[("wedding", "api-deployment")] == 3
        clock.advance(seconds=10)
        engine.check_orders()
        assert fake_k8s.spec[("wedding", "api-deployment")] == 4
        fake_k8s.status[("wedding", "api-deployment")] = 4
        engine.check_orders()
        from engine.storage.models import ScaleOrderRow

        with engine.db.session() as session:
            assert [o.status for o in session.query(ScaleOrderRow)] == ["done"]
    finally:
        engine.db.dispose()


def test_settings_pick_the_actuator(tmp_path):
    from engine.bootstrap import _actuator
    from engine.services import DEFAULT_SERVICES
    from engine.settings import load_settings

    settings = load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path), "WEDSCALE_ACTUATOR": "kubernetes",
                                  "WEDSCALE_K8S_NAMESPACE": "prod", "WEDSCALE_K8S_DRY_RUN": "true"})
    assert (settings.actuator_kind, settings.kubernetes_namespace, settings.kubernetes_dry_run) == \
        ("kubernetes", "prod", True)
    assert load_settings(env={"WEDSCALE_VAR_DIR": str(tmp_path)}).actuator_kind == "simulated"
    assert _actuator(settings.with_(actuator_kind="simulated"), DEFAULT_SERVICES).name == "simulated"
    with pytest.raises(ValueError):
        _actuator(settings.with_(actuator_kind="nomad"), DEFAULT_SERVICES)
