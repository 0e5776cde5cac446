"""Workloads reachable from outside the cluster, and the external actors allowed to reach them.

Service types (API reference, ServiceSpec.type): "NodePort" exposes the Service on each node's
IP at a static port and "LoadBalancer" through a cloud load balancer; both deliver the
connection to the pods on the target port, so a default deny at those pods cuts outside users
off. Ingress and Gateway backends are reached through the ingress controller's pods, which
`backends` names by Service (the service layer reads Ingress/HTTPRoute objects).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..deps.endpoints import selected_workloads, target_port
from ..model.bundle import Bundle, Protocol, Service, Workload
from .policy_manifest import namespace_by_name

EXTERNAL_TYPES = ("LoadBalancer", "NodePort")


@dataclass(frozen=True, slots=True)
class ExternalActors:
    """Who outside ingress comes from: CIDRs (load balancers, node ports) and ingress controllers.

    `controllers` are (namespace, pod labels) of ingress controller / gateway pods.
    """

    cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    controllers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
        ("ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),)),
    )

    def peers(self, via: str) -> list[dict[str, Any]]:
        """The `from` peers for an exposure reached `via` "service" (CIDRs) or "ingress" (controllers)."""
        if via == "ingress":
            return [{"namespaceSelector": namespace_by_name(ns), "podSelector": {"matchLabels": dict(labels)}}
                    for ns, labels in self.controllers]
        return [{"ipBlock": {"cidr": c}} for c in self.cidrs]


@dataclass(frozen=True, slots=True)
class Exposure:
    """A workload reached from outside, on container ports, through `via` (service or ingress)."""

    workload: Workload
    ports: tuple[tuple[Protocol, int], ...]
    via: str
    reason: str
    services: tuple[str, ...] = field(default=())


def exposures(bundle: Bundle, backends: Iterable[tuple[str, str]] = ()) -> list[Exposure]:
    """Every workload behind a LoadBalancer/NodePort Service or an Ingress/Gateway backend.

    `backends` are (namespace/service, how) pairs of Services that Ingress or Gateway routes
    send to. Ports are the Service's target ports resolved on the workload.
    """
    routed = {svc: how for svc, how in backends}
    out: list[Exposure] = []
    for svc in bundle.services:
        external = svc.type in EXTERNAL_TYPES
        if not external and svc.id not in routed:
            continue
        via, reason = ("service", f"Service {svc.id} of type {svc.type}") if external else ("ingress", routed[svc.id])
        for w in selected_workloads(bundle, svc):
            ports = tuple(sorted(set(_target_ports(svc, w))))
            if ports:
                out.append(Exposure(w, ports, via, reason, (svc.id,)))
    return _merge(out)


def _target_ports(svc: Service, w: Workload) -> Iterable[tuple[Protocol, int]]:
    for sp in svc.ports:
        port = target_port(sp, w)
        if port is not None:
            yield sp.protocol, port


def _merge(found: Sequence[Exposure]) -> list[Exposure]:
    by_key: dict[tuple[str, str], Exposure] = {}
    for e in found:
        key = (e.workload.id, e.via)
        old = by_key.get(key)
        if old is None:
            by_key[key] = e
        else:
            by_key[key] = Exposure(e.workload, tuple(sorted(set(old.ports) | set(e.ports))), e.via,
                                   old.reason, tuple(sorted(set(old.services) | set(e.services))))
    return sorted(by_key.values(), key=lambda e: (e.workload.id, e.via))


def backend_services(documents: Iterable[Mapping[str, Any]],
                     default_namespace: str = "default") -> list[tuple[str, str]]:
    """(namespace/service, description) for each Service an Ingress or HTTPRoute/GRPCRoute sends to."""
    out: list[tuple[str, str]] = []
    for doc in documents:
        if not isinstance(doc, Mapping):
            continue
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        ns = meta.get("namespace") or default_namespace
        where = f"{kind} {ns}/{meta.get('name', '?')}"
        for name in _backend_names(kind, doc.get("spec") or {}):
            out.append((f"{ns}/{name}", f"backend of {where}"))
    return out


def _backend_names(kind: Any, spec: Mapping[str, Any]) -> Iterable[str]:
    if kind == "Ingress":
        default = (spec.get("defaultBackend") or {}).get("service") or {}
        if default.get("name"):
            yield default["name"]
        for rule in spec.get("rules") or ():
            for path in ((rule or {}).get("http") or {}).get("paths") or ():
                svc = ((path or {}).get("backend") or {}).get("service") or {}
                if svc.get("name"):
                    yield svc["name"]
                if (path or {}).get("backend", {}).get("serviceName"):  # extensions/v1beta1
                    yield path["backend"]["serviceName"]
    elif kind in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"):
        for rule in spec.get("rules") or ():
            for ref in (rule or {}).get("backendRefs") or ():
                if (ref or {}).get("name") and (ref.get("kind") in (None, "Service")):
                    yield ref["name"]
