"""What a Service dial reaches: the workloads its selector picks and the container port on each.

NetworkPolicy never sees a Service: it sees the pod behind it and the container port the
Service port maps to. Dependencies gathered from a Service name (declared or inferred) go
through here to become workload-to-workload flows on the port a policy matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.bundle import Bundle, Protocol, Service, ServicePort, Workload


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One workload behind a Service port, with the container port it receives on."""

    workload: Workload
    port: int
    protocol: Protocol


def find_service(bundle: Bundle, namespace: str, name: str) -> Service | None:
    """The Service `namespace/name`, or None."""
    return next((s for s in bundle.services if s.namespace == namespace and s.name == name), None)


def find_workload(bundle: Bundle, namespace: str, name: str) -> Workload | None:
    """The workload `namespace/name`, or None."""
    return next((w for w in bundle.workloads if w.namespace == namespace and w.name == name), None)


def selected_workloads(bundle: Bundle, service: Service) -> list[Workload]:
    """Workloads whose pods the Service's selector picks (none for a selector-less Service).

    API reference, ServiceSpec.selector: "Route service traffic to pods with label keys and
    values matching this selector. If empty or not present, the service is assumed to have
    an external process managing its endpoints".
    """
    if not service.selector:
        return []
    wanted = service.selector.items()
    return [
        w for w in bundle.workloads
        if w.namespace == service.namespace and all(w.labels.get(k) == v for k, v in wanted)
    ]


def target_port(sp: ServicePort, workload: Workload) -> int | None:
    """The container port `sp` maps to on `workload`; None if a named port is not served there.

    API reference, ServicePort.targetPort: "If this is a string, it will be looked up as a
    named port in the target Pod's container ports." The lookup also requires the same
    protocol (the endpoints controller's FindPort), and a pod without the port is no endpoint.
    """
    if isinstance(sp.target_port, int):
        return sp.target_port
    for cp in workload.ports:
        if cp.name == sp.target_port and cp.protocol == sp.protocol:
            return cp.port
    return None


def service_endpoints(bundle: Bundle, service: Service, sp: ServicePort) -> tuple[list[Endpoint], list[Workload]]:
    """The endpoints of one Service port, and the selected workloads that serve no such port."""
    found: list[Endpoint] = []
    missing: list[Workload] = []
    for w in selected_workloads(bundle, service):
        port = target_port(sp, w)
        if port is None:
            missing.append(w)
        else:
            found.append(Endpoint(w, port, sp.protocol))
    return found, missing


def describe_ports(service: Service) -> str:
    """`80->http/TCP, 443->8443/TCP`: what a Service exposes, for messages."""
    parts = [f"{p.port}->{p.target_port}/{p.protocol}" for p in service.ports]
    return ", ".join(parts) or "no ports"
