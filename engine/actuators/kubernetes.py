"""Kubernetes Deployments as the actuator, through the official client's scale subresource.

``scale`` patches ``/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`` with
``{"spec": {"replicas": N}}``; ``sizes`` reads the same subresource. Errors are mapped for the
order desk: 404 → ``NotFound`` (permanent), 400/422 → ``InvalidInput`` (permanent), 409 (a
concurrent update), 429, 5xx and connection failures → ``ActuatorUnavailable`` (retried).

Choices made here (DESIGN.md is silent):

- Ready and pending come from the scale subresource: ``ready = min(status.replicas,
  spec.replicas)`` and ``pending = spec.replicas − ready``. ``status.replicas`` counts pods
  that exist, not pods that pass their readiness probe: the deadline check of an order
  therefore verifies that the pods were created.
- Orders are absolute (``replicas = N``), so sending one twice cannot double-scale; order ids
  already applied by this process are also skipped, as the ``Actuator`` contract asks.
- Dry-run mode sends every patch with ``dryRun=All`` (the API server validates it and changes
  nothing) and from then on reports that deployment at the dry-run target: the engine goes on
  as if the order had been applied, so its next decisions can be watched without touching
  the cluster.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Sequence

from engine.actuators.base import ActuatorUnavailable
from engine.errors import InvalidInput, NotFound

_PERMANENT_STATUS = {400: InvalidInput, 404: NotFound, 422: InvalidInput}


class KubernetesActuator:
    """Scales Deployments (one per service) in one namespace; implements ``Actuator``.

    Parameters
    ----------
    apps_api : kubernetes.client.AppsV1Api
        The client to talk through (tests pass one configured for a local fake server).
    namespace : str
        Namespace of the Deployments.
    deployments : dict of str to str
        Service id → Deployment name; a service not named uses its id.
    services : sequence of str
        The service ids this actuator answers for (others are ``NotFound`` at once).
    dry_run : bool
        Send patches with ``dryRun=All`` and report the dry-run targets.
    request_timeout_s : float
        Per-request timeout.
    """

    name = "kubernetes"

    def __init__(self, apps_api, namespace: str, deployments: dict[str, str], services: Sequence[str],
                 *, dry_run: bool = False, request_timeout_s: float = 10.0):
        self.apps_api = apps_api
        self.namespace = namespace
        self.deployments = dict(deployments)
        self.services = list(services)
        self.dry_run = dry_run
        self.request_timeout_s = request_timeout_s
        self._applied: set[str] = set()
        self._dry_targets: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings, services: Sequence[str]) -> "KubernetesActuator":
        """Build from ``Settings``: in-cluster config when running in a pod, else kubeconfig."""
        from kubernetes import client, config

        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        return cls(client.AppsV1Api(), settings.kubernetes_namespace, settings.kubernetes_deployments,
                   services, dry_run=settings.kubernetes_dry_run)

    def deployment_of(self, service: str) -> str:
        """Return the Deployment name of ``service``.

        Raises
        ------
        NotFound
            For a service this actuator does not manage.
        """
        if service not in self.services:
            raise NotFound(f"unknown service {service!r}")
        return self.deployments.get(service) or service

    def scale(self, service: str, target: int, now: datetime, order_id: str) -> None:
        """Patch the Deployment's scale to ``target`` replicas (see the module docstring).

        Raises
        ------
        NotFound, InvalidInput
            Unknown service or Deployment; a target the API refuses.
        ActuatorUnavailable
            Conflict, throttling, server error or no connection: retry later.
        """
        name = self.deployment_of(service)
        if isinstance(target, bool) or not isinstance(target, int) or target < 0:
            raise InvalidInput(f"target must be a non-negative integer, got {target!r}")
        with self._lock:
            if order_id in self._applied:
                return
        kwargs = {"_request_timeout": self.request_timeout_s}
        if self.dry_run:
            kwargs["dry_run"] = "All"
        self._call(self.apps_api.patch_namespaced_deployment_scale, name, self.namespace,
                   {"spec": {"replicas": int(target)}}, **kwargs)
        with self._lock:
            self._applied.add(order_id)
            if self.dry_run:
                self._dry_targets[service] = int(target)

    def sizes(self, service: str, now: datetime) -> tuple[int, int]:
        """Return ``(ready, pending)`` replicas of the service's Deployment.

        Raises
        ------
        NotFound
            Unknown service or Deployment.
        ActuatorUnavailable
            The API server cannot be reached or answers with an error.
        """
        name = self.deployment_of(service)
        with self._lock:
            if service in self._dry_targets:
                return self._dry_targets[service], 0
        scale = self._call(self.apps_api.read_namespaced_deployment_scale, name, self.namespace,
                           _request_timeout=self.request_timeout_s)
        desired = int(scale.spec.replicas or 0) if scale.spec else 0
        existing = int(scale.status.replicas or 0) if scale.status else 0
        ready = min(existing, desired)
        return ready, desired - ready

    @staticmethod
    def _call(method, *args, **kwargs):
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            error = _PERMANENT_STATUS.get(exc.status)
            text = f"Kubernetes answered {exc.status} {exc.reason}"
            if error is not None:
                raise error(text) from None
            raise ActuatorUnavailable(text) from None
        except (HTTPError, OSError) as exc:  # no connection, timeout, broken answer
            raise ActuatorUnavailable(f"Kubernetes API unreachable: {type(exc).__name__}: {exc}") from None
