"""What the two ends of a question stand for: workloads, or a Service and the pods behind its port.

A client dials a Service port; NetworkPolicy sees the pod's port. "ServicePort.targetPort:
Number or name of the port to access on the pods targeted by the service ... If this is a
string, it will be looked up as a named port in the target Pod's container ports." So a
destination that is a Service (`svc/NAME`, `NS/svc/NAME`, a DNS name, or a name that only a
Service has) is checked at each selected workload on the port its targetPort maps to, and the
answer says which mapping it used (`Target.via`).

When a name is both a Service and a workload (the usual case: Deployment `emailservice` behind
Service `emailservice`), a port that some container serves is the workload's; a port that no
container serves but the Service does is the Service's.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.model.errors import InputError
from verifier.model.bundle import Bundle, Service, ServicePort, Workload
from verifier.input.objects import selector_from
from verifier.sets.selectors import matches
from verifier.suggest import LOOSE_CUTOFF, list_hint

#: The kind word that marks a Service reference, as kubectl spells it (`svc/NAME`, `service/NAME`).
SERVICE_WORDS = ("svc", "service", "services")

Port = int | str | None


class AmbiguousName(InputError):
    """A short name that several namespaces share."""


@dataclass(frozen=True)
class Target:
    """One destination workload and the pod port to check there; `via` says how a Service port mapped."""

    workload: Workload
    port: int
    via: str = ""


@dataclass(frozen=True)
class Ref:
    namespace: str | None
    name: str
    service_only: bool = False


def parse_ref(text: str, namespace: str | None = None) -> Ref:
    """`NS/NAME`, `NAME`, `svc/NAME`, `NS/svc/NAME`, or a DNS name `NAME.NS[.svc.cluster.local]`.

    `namespace` is the default for a reference that names none (None: any namespace).
    """
    parts = text.strip().split("/")
    if len(parts) == 3 and parts[1].lower() in SERVICE_WORDS:
        return Ref(parts[0], parts[2], True)
    if len(parts) == 2 and parts[0].lower() in SERVICE_WORDS:
        return Ref(namespace, parts[1], True)
    if len(parts) == 2:
        return Ref(parts[0], parts[1])
    name, dot, rest = text.strip().partition(".")
    if dot and rest:  # a Service's DNS name: NAME.NAMESPACE[.svc[.cluster.local]]
        return Ref(rest.split(".")[0], name, True)
    return Ref(namespace, name)


def sources(bundle: Bundle, text: str, namespace: str | None = None) -> list[Workload]:
    """The workloads a source reference stands for (a Service's stands for the pods it selects).

    Raises:
        InputError: nothing matches (with suggestions); AmbiguousName: several namespaces do.
    """
    ref = parse_ref(text, namespace)
    found = [] if ref.service_only else _workloads(bundle, ref)
    if not found:
        found = [w for svc in _services(bundle, ref) for w in selected(bundle, svc)]
    if not found:
        raise _unknown(bundle, text)
    return _one_namespace(text, found)


def destinations(bundle: Bundle, text: str, port: Port, protocol: str, namespace: str | None = None) -> list[Target]:
    """Each destination workload and pod port a (reference, port) stands for; see the module docstring.

    `port` None means every port the destination declares (a Service's ports, or the containers').

    Raises:
        InputError: nothing matches, a Service selects no pod or has no such port, a workload serves no
            such named port; AmbiguousName: several namespaces match.
    """
    ref = parse_ref(text, namespace)
    found = [] if ref.service_only else _workloads(bundle, ref)
    workloads = _one_namespace(text, found) if found else []
    services = _services(bundle, ref)
    if workloads:
        services = [s for s in services if s.namespace == workloads[0].namespace]
    if len({s.namespace for s in services}) > 1 and not workloads:
        raise AmbiguousName(f"{text!r} is ambiguous: Services {', '.join(sorted(s.id for s in services))}; "
                            "say namespace/svc/name")
    if workloads and not (services and _service_port_wins(workloads, services[0], port, protocol)):
        return [t for w in workloads for t in _workload_targets(w, text, port, protocol)]
    if services:
        return _service_targets(bundle, services[0], port, protocol)
    raise _unknown(bundle, text)


def selected(bundle: Bundle, svc: Service) -> list[Workload]:
    """The workloads whose pods a Service selects (none for a Service without a selector)."""
    if not svc.selector:
        return []
    sel = selector_from({"matchLabels": svc.selector})
    return [w for w in bundle.workloads if w.namespace == svc.namespace and matches(sel, w.labels)]


# --- workloads ---------------------------------------------------------------------------------------------


def _workloads(bundle: Bundle, ref: Ref) -> list[Workload]:
    return [w for w in bundle.workloads if w.name == ref.name
            and (ref.namespace is None or w.namespace == ref.namespace)]


def _one_namespace(text: str, found: list[Workload]) -> list[Workload]:
    if len({w.namespace for w in found}) > 1:
        raise AmbiguousName(f"{text!r} is ambiguous: {', '.join(sorted({w.id for w in found}))}; say namespace/name")
    return found


def _serves(w: Workload, port: Port, protocol: str) -> bool:
    key = "port" if isinstance(port, int) else "name"
    return any(getattr(p, key) == port and p.protocol == protocol for p in w.ports)


def _service_port_wins(workloads: list[Workload], svc: Service, port: Port, protocol: str) -> bool:
    """A port no container of the workload serves but the same-named Service does is the Service's port."""
    if port is None or any(_serves(w, port, protocol) for w in workloads):
        return False
    return bool(_service_ports(svc, port, protocol))


def _workload_targets(w: Workload, text: str, port: Port, protocol: str) -> list[Target]:
    if isinstance(port, int):
        return [Target(w, port)]
    if isinstance(port, str):
        numbers = [p.port for p in w.ports if p.name == port and p.protocol == protocol]
        if not numbers:
            raise InputError(f"{w.id} has no {protocol} container port named {port!r}; its ports: {_ports_text(w)}")
        return [Target(w, numbers[0], f"named port {port!r} = {protocol}/{numbers[0]} on {w.id}")]
    numbers = sorted({p.port for p in w.ports if p.protocol == protocol})
    if not numbers:
        raise InputError(f"{w.id} declares no {protocol} port; ask with a port, e.g. {text}:8080")
    return [Target(w, n) for n in numbers]


def _ports_text(w: Workload) -> str:
    return ", ".join(f"{p.name + '=' if p.name else ''}{p.protocol}/{p.port}" for p in w.ports) or "none"


# --- Services ----------------------------------------------------------------------------------------------


def _services(bundle: Bundle, ref: Ref) -> list[Service]:
    return [s for s in bundle.services if s.name == ref.name
            and (ref.namespace is None or s.namespace == ref.namespace)]


def _service_ports(svc: Service, port: Port, protocol: str) -> list[ServicePort]:
    ports = [p for p in svc.ports if p.protocol == protocol]
    if port is None:
        return ports
    key = "port" if isinstance(port, int) else "name"
    return [p for p in ports if getattr(p, key) == port]


def _service_targets(bundle: Bundle, svc: Service, port: Port, protocol: str) -> list[Target]:
    if svc.selector is None:
        raise InputError(f"Service {svc.id} has no selector (its endpoints are managed by hand): name the workload "
                         "behind it instead")
    backends = selected(bundle, svc)
    if not backends:
        raise InputError(f"Service {svc.id} selects no workload in the input (selector "
                         f"{', '.join(f'{k}={v}' for k, v in svc.selector.items())})")
    ports = _service_ports(svc, port, protocol)
    if not ports:
        if isinstance(port, int) or (isinstance(port, str) and any(_serves(w, port, protocol) for w in backends)):
            # Not a Service port: the pods' own port, as a client dialling a pod IP would use it.
            return [t for w in backends for t in _workload_targets(w, w.id, port, protocol)]
        listed = ", ".join(f"{p.name + '=' if p.name else ''}{p.protocol}/{p.port}" for p in svc.ports) or "none"
        raise InputError(f"Service {svc.id} has no {protocol} port {port!r}; its ports: {listed}")
    targets = [t for sp in ports for w in backends for t in _mapped(svc, sp, w)]
    if not targets:
        raise InputError(f"no pod behind Service {svc.id} serves the target port of {port!r}")
    return targets


def _mapped(svc: Service, sp: ServicePort, w: Workload) -> list[Target]:
    """The pod port a Service port reaches on one workload ([] when a named targetPort is not served there)."""
    shown = f"Service {svc.id} port {sp.port}{f' ({sp.name})' if sp.name else ''}"
    if isinstance(sp.target_port, int):
        return [Target(w, sp.target_port, f"{shown} -> targetPort {sp.target_port} on {w.id}")]
    numbers = [p.port for p in w.ports if p.name == sp.target_port and p.protocol == sp.protocol]
    if not numbers:
        return []
    return [Target(w, numbers[0], f"{shown} -> targetPort {sp.target_port!r} = {numbers[0]} on {w.id}")]


def _unknown(bundle: Bundle, text: str) -> InputError:
    known = sorted({w.id for w in bundle.workloads} | {w.name for w in bundle.workloads}
                   | {f"svc/{s.name}" for s in bundle.services})
    hint = list_hint(text, known, n=3, cutoff=LOOSE_CUTOFF)
    return InputError(f"no workload or Service named {text!r}{hint}")
