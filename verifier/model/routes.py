"""Entry points from outside the cluster: Ingress, OpenShift Route and Gateway API routes, read leniently.

Only what exposure needs is kept: which Services (and ports) a route sends traffic to, and
which class or Gateway serves it. These objects do not change NetworkPolicy verdicts, so a
malformed one is a warning and is otherwise left out of the exposure report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .bundle import SourceRef

#: Kind -> API groups whose objects are read as routes.
ROUTE_KINDS: dict[str, tuple[str, ...]] = {
    "Ingress": ("networking.k8s.io", "extensions"),
    "Route": ("route.openshift.io",),
    "HTTPRoute": ("gateway.networking.k8s.io",),
    "GRPCRoute": ("gateway.networking.k8s.io",),
    "TLSRoute": ("gateway.networking.k8s.io",),
    "TCPRoute": ("gateway.networking.k8s.io",),
    "UDPRoute": ("gateway.networking.k8s.io",),
}


@dataclass(frozen=True, slots=True)
class Backend:
    """A Service a route sends to. `port` is a Service port (number or name), or, for an
    OpenShift Route (`pod_port`), the pods' target port; None: the Service's every port."""

    namespace: str
    service: str
    port: int | str | None = None
    pod_port: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    kind: str
    namespace: str
    name: str
    backends: tuple[Backend, ...]
    via: str | None = None  # ingressClassName, or the parent Gateway `namespace/name`
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


def is_route(kind: str, api_version: str) -> bool:
    return api_version.rpartition("/")[0] in ROUTE_KINDS.get(kind, ())


def route_from(kind: str, data: dict[str, Any], namespace: str, source: SourceRef | None = None) -> Route | None:
    """The route an object describes, or None when it names no backend netreason can read."""
    spec = data.get("spec")
    meta = data.get("metadata")
    if not isinstance(spec, dict) or not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    if kind == "Ingress":
        backends, via = tuple(_ingress_backends(spec, namespace)), _ingress_class(spec, meta)
    elif kind == "Route":
        backends, via = tuple(_openshift_backends(spec, namespace)), "openshift-router"
    else:
        backends, via = tuple(_gateway_backends(spec, namespace)), _parent(spec, namespace)
    if not backends:
        return None
    return Route(kind, namespace, meta["name"], backends, via, source)


def _ingress_backends(spec: dict[str, Any], namespace: str) -> Iterator[Backend]:
    found = [spec.get("defaultBackend"), spec.get("backend")]
    for rule in _dicts(spec.get("rules")):
        http = rule.get("http")
        for path in _dicts(http.get("paths") if isinstance(http, dict) else None):
            found.append(path.get("backend"))
    for backend in found:
        if not isinstance(backend, dict):
            continue
        service = backend.get("service")
        if isinstance(service, dict) and isinstance(service.get("name"), str):
            port = _mapping(service.get("port"))
            yield Backend(namespace, service["name"], port.get("number") or port.get("name"))
        elif isinstance(backend.get("serviceName"), str):  # extensions/v1beta1
            yield Backend(namespace, backend["serviceName"], backend.get("servicePort"))


def _ingress_class(spec: dict[str, Any], meta: dict[str, Any]) -> str | None:
    annotations = _mapping(meta.get("annotations"))
    value = spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")
    return value if isinstance(value, str) else None


def _openshift_backends(spec: dict[str, Any], namespace: str) -> Iterator[Backend]:
    port = _mapping(spec.get("port"))
    target = port.get("targetPort")
    for to in [spec.get("to"), *(_dicts(spec.get("alternateBackends")))]:
        if isinstance(to, dict) and isinstance(to.get("name"), str) and to.get("kind", "Service") == "Service":
            yield Backend(namespace, to["name"], target, pod_port=target is not None)


def _gateway_backends(spec: dict[str, Any], namespace: str) -> Iterator[Backend]:
    for rule in _dicts(spec.get("rules")):
        for ref in _dicts(rule.get("backendRefs")):
            if ref.get("kind", "Service") == "Service" and ref.get("group", "") in ("", "core") \
                    and isinstance(ref.get("name"), str):
                yield Backend(ref.get("namespace") or namespace, ref["name"], ref.get("port"))


def _parent(spec: dict[str, Any], namespace: str) -> str | None:
    for ref in _dicts(spec.get("parentRefs")):
        if isinstance(ref.get("name"), str):
            return f"{ref.get('namespace') or namespace}/{ref['name']}"
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
