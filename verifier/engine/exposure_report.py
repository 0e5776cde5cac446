"""Exposure: who can reach each workload from outside the cluster, and through what.

Two views per workload:

* `external_ingress`: what its ingress policies admit from addresses outside the cluster:
  everything when no policy isolates it for ingress (or it uses hostNetwork), else the
  rules with no `from` (any source) or with ipBlock peers. Admin policies do not change
  this: AdminNetworkPolicy and baseline ingress peers are namespaces and pods only.
* `entry_points`: the LoadBalancer and NodePort Services selecting it (reached from outside
  directly: allowed when its ingress admits outside sources on the target port) and the
  Ingress, OpenShift Route and Gateway API routes with a backend Service selecting it
  (reached through the controller pods: allowed when a controller may connect to it on the
  target port, by the same evaluation as `check`).

Controllers are the workloads `Controller` specs match; with none given, workloads that look
like well-known ingress controllers and gateways (ingress-nginx, Traefik, HAProxy, Contour,
Envoy Gateway, Istio, Kong, the OpenShift router) are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..model.bundle import (
    Bundle,
    LabelSelector,
    NetworkPolicy,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Service,
    ServicePort,
    Workload,
)
from ..model.routes import Backend, Route
from ..sets.ports import PortSet
from ..sets.selectors import iter_bits, matches
from .compile import CompiledBundle
from .connectivity import Connectivity
from .explain import Explainer
from .policy_ports import resolve_port

EXPOSURE_SCHEMA = "netreason.exposure/v1"

#: (label key, value) pairs of well-known ingress controllers and gateways, and namespaces
#: whose workloads are all routers.
KNOWN_CONTROLLER_LABELS: tuple[tuple[str, str], ...] = (
    ("app.kubernetes.io/name", "ingress-nginx"), ("app.kubernetes.io/name", "nginx-ingress"),
    ("app.kubernetes.io/name", "traefik"), ("app.kubernetes.io/name", "haproxy-ingress"),
    ("app.kubernetes.io/name", "kubernetes-ingress"), ("app.kubernetes.io/name", "contour"),
    ("app.kubernetes.io/name", "envoy"), ("app.kubernetes.io/component", "proxy"),
    ("gateway.envoyproxy.io/owning-gateway-name", ""), ("istio", "ingressgateway"),
    ("app.kubernetes.io/name", "kong"), ("app", "ingress-nginx"), ("app", "nginx-ingress"),
    ("app", "traefik"), ("app", "istio-ingressgateway"), ("app", "kong"),
    ("ingresscontroller.operator.openshift.io/deployment-ingresscontroller", ""),
)
KNOWN_CONTROLLER_NAMESPACES = ("openshift-ingress",)


@dataclass(frozen=True, slots=True)
class Controller:
    """External actors: workloads in `namespace` (None: any) whose labels match `selector`."""

    namespace: str | None
    selector: LabelSelector = field(default_factory=LabelSelector)

    def matches(self, w: Workload) -> bool:
        return (self.namespace is None or w.namespace == self.namespace) and matches(self.selector, w.labels)


@dataclass(frozen=True, slots=True)
class ExternalIngress:
    cidr: str  # "anywhere" or a CIDR
    excepts: tuple[str, ...]
    ports: PortSet
    rule: str


@dataclass(frozen=True, slots=True)
class EntryPoint:
    kind: str  # "Service/LoadBalancer", "Service/NodePort", "Ingress", "Route", "HTTPRoute", ...
    object: str
    service: str
    service_port: int | None
    target_port: int | None
    protocol: Protocol
    via: tuple[str, ...]  # controller workloads (empty for LoadBalancer/NodePort, or none found)
    allowed: bool | None  # None: no controller to check from
    explanation: str


@dataclass(frozen=True, slots=True)
class WorkloadExposure:
    workload: str
    external_ingress: tuple[ExternalIngress, ...]
    entry_points: tuple[EntryPoint, ...]


def default_controllers(bundle: Bundle) -> list[Workload]:
    """Workloads that look like ingress controllers or gateways."""
    out = []
    for w in bundle.workloads:
        labelled = any(w.labels.get(k) == v if v else k in w.labels for k, v in KNOWN_CONTROLLER_LABELS)
        if labelled or w.namespace in KNOWN_CONTROLLER_NAMESPACES:
            out.append(w)
    return out


def controller_workloads(bundle: Bundle, controllers: Sequence[Controller] = ()) -> list[Workload]:
    """The workloads `controllers` match, or the well-known ones when none are given."""
    if controllers:
        return [w for w in bundle.workloads if any(c.matches(w) for c in controllers)]
    return default_controllers(bundle)


def parse_controller(text: str) -> Controller:
    """`NAMESPACE`, `NAMESPACE/KEY=VALUE[,KEY=VALUE]` or `*/KEY=VALUE` (any namespace).

    Raises:
        ValueError: a label part is not KEY=VALUE.
    """
    namespace, _, labels = text.partition("/")
    reqs = []
    for part in filter(None, labels.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise ValueError(f"{text!r}: labels must be KEY=VALUE, got {part!r}")
        reqs.append(Requirement(key, "In", (value,)))
    return Controller(None if namespace in ("", "*") else namespace, LabelSelector(tuple(reqs)))


def compute_exposure(bundle: Bundle, conn: Connectivity,
                     controllers: Sequence[Controller] = ()) -> list[WorkloadExposure]:
    """The exposure of every workload, sorted by id. Pure."""
    return _exposure(bundle, conn, controller_workloads(bundle, controllers))


def _exposure(bundle: Bundle, conn: Connectivity, actors: list[Workload]) -> list[WorkloadExposure]:
    view = _View(bundle, conn, actors)
    return [view.workload(w) for w in sorted(bundle.workloads, key=lambda w: w.id)]


class _View:
    def __init__(self, bundle: Bundle, conn: Connectivity, actors: list[Workload]) -> None:
        self.bundle, self.conn, self.actors = bundle, conn, actors
        self.outside = _outside_policies(conn.compiled)
        self.services = {s.id: s for s in bundle.services}
        # Each Service's workloads once, and the routes per Service: linear in objects, not their product.
        self.backing = _backing(bundle)
        self.routes: dict[str, list[tuple[Route, Backend]]] = {}
        for route in bundle.routes:
            for backend in route.backends:
                self.routes.setdefault(f"{backend.namespace}/{backend.service}", []).append((route, backend))

    @cached_property
    def explainer(self) -> Explainer:
        """Built when a route's controllers may not connect: most bundles never explain a connection here."""
        return Explainer(self.bundle, self.conn.compiled)  # `selecting` from the compiled classes

    def workload(self, w: Workload) -> WorkloadExposure:
        outside = tuple(self.external_ingress(w))
        points = [*self._service_points(w, outside), *self._route_points(w)]
        return WorkloadExposure(w.id, outside, tuple(points))

    # --- from outside addresses ---------------------------------------------------------
    def external_ingress(self, w: Workload) -> list[ExternalIngress]:
        c = self.conn.compiled
        cls = c.class_of_workload(w.id)
        if w.host_network or not c.isolated(cls, "ingress"):  # no policy selects it (never a hostNetwork pod)
            why = "hostNetwork (outside policy)" if w.host_network else "not isolated for ingress"
            return [ExternalIngress("anywhere", (), PortSet.all_ports(), why)]
        # a rule naming pods only admits nothing from outside (its ports are not worth resolving)
        return [row for p in self.outside.get(cls, ()) for i, rule in enumerate(p.ingress) if rule.admits_outside
                for row in outside_rows(p, i, rule, w)]

    def _service_points(self, w: Workload, outside: tuple[ExternalIngress, ...]) -> list[EntryPoint]:
        out = []
        for svc in self.backing.get(w.id, ()):
            if svc.type not in ("LoadBalancer", "NodePort"):
                continue
            for sp in svc.ports:
                target = _target(sp, w)
                admitted = [e for e in outside if target is not None and e.ports.contains(sp.protocol, target)]
                allowed = bool(admitted)
                why = (f"outside sources reach {w.id}:{target}/{sp.protocol} by "
                       + ", ".join(f"{e.rule} ({e.cidr})" for e in admitted)
                       if allowed else f"{w.id}'s ingress policies admit no outside source on {target}/{sp.protocol}")
                out.append(EntryPoint(f"Service/{svc.type}", svc.id, svc.id, sp.port, target, sp.protocol, (), allowed,
                                      why))
        return out

    # --- through controllers ------------------------------------------------------------
    def _route_points(self, w: Workload) -> list[EntryPoint]:
        out = []
        for svc in self.backing.get(w.id, ()):
            for route, backend in self.routes.get(svc.id, ()):
                out += [self._through(route, svc, sp, w) for sp in _backend_ports(svc, backend)]
        return out

    def _through(self, route: Route, svc: Service, sp: ServicePort, w: Workload) -> EntryPoint:
        target = _target(sp, w)
        kind, obj = route.kind, route.id
        via = tuple(a.id for a in self.actors)
        if target is None:
            return EntryPoint(kind, obj, svc.id, sp.port, None, sp.protocol, via, False,
                              f"target port {sp.target_port!r} of {svc.id} is not a port of {w.id}")
        if not self.actors:
            return EntryPoint(kind, obj, svc.id, sp.port, target, sp.protocol, (), None,
                              f"no ingress controller in the input (class {route.via or 'unset'}); give "
                              "--ingress-controller NAMESPACE[/LABEL=VALUE] to check its access")
        ok = [a.id for a in self.actors if self.conn.is_allowed(a.id, w.id, target, sp.protocol)]
        if ok:
            why = f"controller {', '.join(ok)} may connect to {w.id}:{target}/{sp.protocol}"
        else:
            verdicts = [self.explainer.check(a.id, w.id, target, sp.protocol) for a in self.actors[:3]]
            why = f"no controller may connect to {w.id}:{target}/{sp.protocol}: " + "; ".join(
                f"{v.src}: {v.ingress.explain() if not v.ingress.allowed else v.egress.explain()}" for v in verdicts)
        return EntryPoint(kind, obj, svc.id, sp.port, target, sp.protocol, via, bool(ok), why)


def outside_rows(p: NetworkPolicy, i: int, rule: Rule, w: Workload) -> list[ExternalIngress]:
    """What ingress rule `i` of `p`, selecting `w`, admits from outside: everywhere (no `from`) or its ipBlocks,
    on the ports it resolves to at `w` (none for a rule naming pods only)."""
    ports = _rule_ports(rule.ports, w)
    if not ports:
        return []
    ref = f"ingress rule {i} of {p.id}"
    out = [ExternalIngress("anywhere", (), ports, ref)] if rule.peers is None else []
    for peer in rule.peers or ():
        if peer.ip_block is not None:
            out.append(ExternalIngress(peer.ip_block.cidr, peer.ip_block.excepts, ports, ref))
    return out


def _outside_policies(c: CompiledBundle) -> dict[int, list[NetworkPolicy]]:
    """Per class, in bundle order, the policies isolating it for ingress that have a rule `admits_outside`.

    The policies selecting a workload (as `Explainer.selecting` finds them) whose ingress rules all name
    pods only add nothing to its `external_ingress`: most of a large cluster's policies, whose targets need
    not be read (a test holds the rows to reading every selecting policy).
    """
    out: dict[int, list[NetworkPolicy]] = {}
    for p in c.bundle.policies:
        if not p.affects_ingress:
            continue
        for rule in p.ingress:
            if rule.admits_outside:
                for cls in iter_bits(c.policy_targets.get(p.id, 0)):
                    out.setdefault(cls, []).append(p)
                break
    return out


#: A namespace with at most this many workloads has each Service's selector checked against every one of
#: them; a larger one is indexed by label first (`_candidates`).
DIRECT_CHECK = 8


def _backing(bundle: Bundle) -> dict[str, list[Service]]:
    """The Services selecting each workload (by id), in bundle order."""
    in_namespace: dict[str, list[Workload]] = {}
    for w in bundle.workloads:
        in_namespace.setdefault(w.namespace, []).append(w)
    indexes: dict[str, dict[tuple[str, str], list[Workload]]] = {}
    out: dict[str, list[Service]] = {}
    for svc in bundle.services:
        if not svc.selector:
            continue
        for w in _candidates(svc, in_namespace.get(svc.namespace, []), indexes):
            if _selects(svc, w):
                out.setdefault(w.id, []).append(svc)
    return out


def _candidates(svc: Service, workloads: list[Workload],
                indexes: dict[str, dict[tuple[str, str], list[Workload]]]) -> list[Workload]:
    """The workloads of `svc`'s namespace that may match its (non-empty) selector: all of a few, else those
    with its first label, from an index of the namespace's labels (made once, in `indexes`).

    Checking a few directly spares indexing every label of every workload (a cluster of small namespaces:
    604 Services over 900 workloads at benchmark tier M); the index keeps a large namespace linear in its
    workloads and Services, not their product. A test holds both to checking every pair.
    """
    if len(workloads) <= DIRECT_CHECK:
        return workloads
    index = indexes.get(svc.namespace)
    if index is None:
        index = indexes[svc.namespace] = {}
        for w in workloads:
            for item in w.labels.items():
                index.setdefault(item, []).append(w)
    return index.get(next(iter((svc.selector or {}).items())), [])


def _selects(svc: Service, w: Workload) -> bool:
    return bool(svc.selector) and svc.namespace == w.namespace and all(w.labels.get(k) == v for k,
                                                                       v in (svc.selector or {}).items())


def _backend_ports(svc: Service, backend: Backend) -> list[ServicePort]:
    if backend.port is None:
        return list(svc.ports)
    if backend.pod_port:  # an OpenShift Route names the pods' target port (or the Service port's name)
        return [sp for sp in svc.ports if sp.target_port == backend.port or sp.name == backend.port]
    return [sp for sp in svc.ports if sp.port == backend.port or (sp.name is not None and sp.name == backend.port)]


def _target(sp: ServicePort, w: Workload) -> int | None:
    """The container port a Service port sends to on `w` (a named targetPort resolves on the pod)."""
    if isinstance(sp.target_port, int):
        return sp.target_port
    for cp in w.ports:
        if cp.name == sp.target_port and cp.protocol == sp.protocol:
            return cp.port
    return None


def _rule_ports(ports: tuple[PolicyPort, ...] | None, w: Workload) -> PortSet:
    if ports is None:
        return PortSet.all_ports()
    ranges: dict[Protocol, list[tuple[int, int]]] = {}
    for pp in ports:
        rng = resolve_port(pp, w)
        if rng is not None:
            ranges.setdefault(pp.protocol, []).append(rng)
    return PortSet.of(ranges)


def exposure_section(conn: Connectivity, controllers: Sequence[Controller] = ()) -> dict[str, Any]:
    """`exposure_json` of a bundle's connectivity: the `exposure` key of the analysis JSON."""
    bundle = conn.compiled.bundle
    actors = controller_workloads(bundle, controllers)  # once: a scan of every workload's labels
    return exposure_json(_exposure(bundle, conn, actors), [w.id for w in actors])


def exposure_json(rows: Sequence[WorkloadExposure], controllers: Sequence[str] = ()) -> dict[str, Any]:
    """The `netreason flows --exposure --format json` document (also `ground_truth.exposure` of analyze)."""
    return {
        "schema": EXPOSURE_SCHEMA,
        "controllers": list(controllers),
        "workloads": [{
            "id": r.workload,
            "external_ingress": [{"cidr": e.cidr, "except": list(e.excepts), "protocol": proto,
                                  "ports": [[lo, hi] for lo, hi in rs], "rule": e.rule}
                                 for e in r.external_ingress for proto, rs in e.ports.ranges],
            "entry_points": [{"kind": p.kind, "object": p.object, "service": p.service, "service_port": p.service_port,
                              "target_port": p.target_port, "protocol": p.protocol, "via": list(p.via),
                              "allowed": p.allowed, "explanation": p.explanation} for p in r.entry_points],
        } for r in rows],
    }
