"""The rollout as a verified plan: default deny one namespace at a time, DNS first, exactly the dependencies.

Per namespace (lowest risk first): `allow-dns` (UDP and TCP 53 to kube-dns, selected by
`kubernetes.io/metadata.name`), the least-privilege allows of the dependencies (egress at the
source, ingress at the destination, other namespaces by name), outside ingress to exposed
workloads from the configured external actors, then `default-deny` for both directions. Each
step is checked by the evaluator on the bundle as it stands after the step: every dependency
that touches a stepped namespace is allowed, every workload there reaches DNS, and no other
in-cluster flow to or from it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.compile import compile_bundle
from ..engine.connectivity import compute_connectivity
from ..input.objects import network_policy_from
from ..model.bundle import Bundle, NetworkPolicy, SourceRef, Workload
from ..model.records import Dependency
from ..review.exposure import Exposure, ExternalActors, exposures
from ..review.fixes import FixCollector, FixView, external_allows, side_allow
from ..review.policy_manifest import Manifest, namespace_by_name, new_policy, port_entries, workload_selector
from ..review.rules.dns import DNS_LABELS, DNS_NAMESPACE, with_assumed_dns

PLAN_SCHEMA = "netreason.plan/v1"
#: Namespaces a plan leaves alone: isolating them needs the platform team's own rules (DNS serves everyone).
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
PLANNED_FILE = "netreason-plan"


@dataclass(frozen=True, slots=True)
class StepCheck:
    """What the evaluator says after a step."""

    dependencies_total: int
    denied: tuple[str, ...]
    unexpected: tuple[str, ...]  # in-cluster flows to or from stepped namespaces that nothing needs
    dns_missing: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not (self.denied or self.unexpected or self.dns_missing)

    def as_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "dependencies_total": self.dependencies_total,
                "dependencies_allowed": self.dependencies_total - len(self.denied), "denied": list(self.denied),
                "unexpected_flows": list(self.unexpected), "dns_missing": list(self.dns_missing)}


@dataclass(frozen=True, slots=True)
class PlanStep:
    number: int
    namespace: str
    policies: tuple[Manifest, ...]  # in apply order: DNS, allows, outside ingress, default deny last
    removes: tuple[NetworkPolicy, ...]  # existing policies the step replaces (--replace)
    dependencies: tuple[Dependency, ...]
    exposed: tuple[Exposure, ...]
    check: StepCheck


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[PlanStep, ...]
    skipped: tuple[tuple[str, str], ...]  # (namespace, why)
    replace: bool
    actors: ExternalActors

    @property
    def verified(self) -> bool:
        return all(s.check.verified for s in self.steps)


def make_plan(bundle: Bundle, deps: Sequence[Dependency], *, actors: ExternalActors | None = None,
              backends: Iterable[tuple[str, str]] = (), replace: bool = False) -> Plan:
    """The rollout plan for every namespace with workloads (system namespaces skipped), each step verified.

    `backends` are (namespace/service, why) of Ingress/Gateway backends; `replace` deletes each
    namespace's existing policies in its step instead of keeping them.
    """
    actors = actors or ExternalActors()
    exposed = exposures(bundle, backends)
    pairs = [d for d in deps if d.dst is not None or d.cidr is not None]
    namespaces, skipped = _namespaces(bundle)
    c = FixCollector(bundle)
    view = FixView(bundle, (), [], actors, exposed=exposed)
    planned = {ns: _namespace_policies(view, c, ns, pairs, exposed) for ns in namespaces}
    order = sorted(namespaces, key=lambda ns: _risk(ns, pairs, exposed, view))
    steps: list[PlanStep] = []
    for n, ns in enumerate(order, 1):
        stepped = order[:n]
        after = _bundle_after(bundle, [planned[s] for s in stepped], stepped if replace else [])
        check = verify_step(after, pairs, set(stepped))
        removes = tuple(p for p in bundle.policies if replace and p.namespace == ns)
        touching = tuple(d for d in pairs if _ns(d.src) == ns or (d.dst and _ns(d.dst) == ns))
        steps.append(PlanStep(n, ns, tuple(planned[ns]), removes, touching,
                              tuple(e for e in exposed if e.workload.namespace == ns), check))
    return Plan(tuple(steps), tuple(skipped), replace, actors)


def _ns(workload_id: str) -> str:
    return workload_id.split("/", 1)[0]


def _namespaces(bundle: Bundle) -> tuple[list[str], list[tuple[str, str]]]:
    have = sorted({w.namespace for w in bundle.workloads if not w.host_network})
    skipped = [(ns, "system namespace: left to the platform's own policies") for ns in have if ns in SYSTEM_NAMESPACES]
    return [ns for ns in have if ns not in SYSTEM_NAMESPACES], skipped


def _risk(ns: str, deps: Sequence[Dependency], exposed: Sequence[Exposure], view: FixView) -> tuple[int, int, int, str]:
    """Fewer exposed workloads, fewer dependencies crossing it, fewer workloads: lower risk, earlier step."""
    crossing = sum(_ns(d.src) == ns or (d.dst is not None and _ns(d.dst) == ns) for d in deps)
    return (sum(e.workload.namespace == ns for e in exposed), crossing, len(view.by_namespace.get(ns, ())), ns)


def _namespace_policies(view: FixView, c: FixCollector, ns: str, deps: Sequence[Dependency],
                        exposed: Sequence[Exposure]) -> list[Manifest]:
    ids = [c.add(dns_policy(ns, _dns_namespace(view.bundle)), f"let every pod in {ns} reach cluster DNS", 0)]
    for d in deps:
        src, dst = view.workloads.get(d.src), view.workloads.get(d.dst or "")
        if src is not None and src.namespace == ns:
            ids += _egress_for(view, c, d, src, dst)
        if dst is not None and src is not None and dst.namespace == ns:
            ids += side_allow(view, d, src, dst, "ingress", c, 0)
    ids += external_allows(view, ns, c, 0, only_open=False)
    ids.append(c.add(new_policy(ns, "default-deny", {}, types=["Ingress", "Egress"]),
                     f"deny everything else to and from {ns}", 0))
    by_id = {f.id: f.manifest for f in c.fixes()}
    return [by_id[i] for i in dict.fromkeys(ids)]


def _egress_for(view: FixView, c: FixCollector, d: Dependency, src: Workload, dst: Workload | None) -> list[str]:
    if dst is not None:
        return side_allow(view, d, src, dst, "egress", c, 0)
    if d.cidr is None or src.host_network:
        return []
    rule = {"to": [{"ipBlock": {"cidr": d.cidr}}], "ports": port_entries([(d.protocol, d.port)])}
    manifest = new_policy(src.namespace, f"allow-{src.name}-egress",
                          workload_selector(src, view.by_namespace[src.namespace]), egress=[rule])
    return [c.add(manifest, f"let {src.id} reach {d.cidr}", 0)]


def dns_policy(namespace: str, dns_namespace: str = DNS_NAMESPACE) -> Manifest:
    """`allow-dns`: every pod of the namespace to the kube-dns pods on 53/UDP and 53/TCP."""
    rule = {"to": [{"namespaceSelector": namespace_by_name(dns_namespace),
                    "podSelector": {"matchLabels": dict(DNS_LABELS)}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    return new_policy(namespace, "allow-dns", {}, egress=[rule])


def _dns_namespace(bundle: Bundle) -> str:
    pods = [w for w in bundle.workloads if all(w.labels.get(k) == v for k, v in DNS_LABELS.items())]
    return pods[0].namespace if pods else DNS_NAMESPACE


def _bundle_after(bundle: Bundle, added: Sequence[Sequence[Manifest]], replaced: Sequence[str]) -> Bundle:
    kept = [p for p in bundle.policies if p.namespace not in replaced]
    new = [network_policy_from(m, m["metadata"]["namespace"], SourceRef(PLANNED_FILE, 0, i))
           for i, m in enumerate(m for ms in added for m in ms)]
    return dataclasses.replace(bundle, policies=(*kept, *new))


def bundle_after(bundle: Bundle, plan: Plan) -> Bundle:
    """The bundle once every step of `plan` is applied (its replaced policies gone)."""
    stepped = [s.namespace for s in plan.steps]
    return _bundle_after(bundle, [s.policies for s in plan.steps], stepped if plan.replace else [])


def verify_step(bundle: Bundle, deps: Sequence[Dependency], stepped: set[str]) -> StepCheck:
    """Every dependency touching `stepped` allowed, DNS for each workload there, and no other flow to or from it."""
    with_dns, dns = with_assumed_dns(bundle) if not _has_dns(bundle) else (bundle, _dns_pod(bundle))
    conn = compute_connectivity(compile_bundle(with_dns))
    touching = [d for d in deps if d.dst is not None and (_ns(d.src) in stepped or _ns(d.dst) in stepped)]
    denied = [f"{d.src} -> {d.dst} {d.protocol}/{d.port}" for d in touching
              if d.dst is not None and not conn.is_allowed(d.src, d.dst, d.port, d.protocol)]
    needed: dict[tuple[str, str], set[tuple[str, int]]] = {}
    for d in touching:
        needed.setdefault((d.src, d.dst or ""), set()).add((d.protocol, d.port))
    host = {w.id for w in with_dns.workloads if w.host_network}
    unexpected = []
    for src, dst, ports in conn.flows():
        if src in host or dst in host or not (_ns(src) in stepped or _ns(dst) in stepped):
            continue
        extra = _extra(ports.ranges, needed.get((src, dst), set()), dst == dns.id)
        if extra:
            unexpected.append(f"{src} -> {dst} {extra}")
    dns_missing = [w.id for w in bundle.workloads if w.namespace in stepped and not w.host_network
                   and not all(conn.is_allowed(w.id, dns.id, 53, p) for p in ("UDP", "TCP"))]
    return StepCheck(len(touching), tuple(denied), tuple(unexpected), tuple(dns_missing))


def _extra(ranges: Any, needed: set[tuple[str, int]], to_dns: bool) -> str:
    """The allowed port ranges nothing needs, as `TCP/1-79,81-65535`, or ''."""
    out = []
    for proto, spans in ranges:
        wanted = {port for p, port in needed if p == proto} | ({53} if to_dns and proto in ("UDP", "TCP") else set())
        left = []
        for lo, hi in spans:
            for a, b in _minus((lo, hi), sorted(wanted)):
                left.append(f"{a}" if a == b else f"{a}-{b}")
        if left:
            out.append(f"{proto}/{','.join(left)}")
    return " ".join(out)


def _minus(span: tuple[int, int], holes: list[int]) -> list[tuple[int, int]]:
    lo, hi = span
    out = []
    for h in holes:
        if h < lo or h > hi:
            continue
        if h > lo:
            out.append((lo, h - 1))
        lo = h + 1
    if lo <= hi:
        out.append((lo, hi))
    return out


def _has_dns(bundle: Bundle) -> bool:
    return any(w.namespace == DNS_NAMESPACE and all(w.labels.get(k) == v for k, v in DNS_LABELS.items())
               for w in bundle.workloads)


def _dns_pod(bundle: Bundle) -> Workload:
    return next(w for w in bundle.workloads if w.namespace == DNS_NAMESPACE
                and all(w.labels.get(k) == v for k, v in DNS_LABELS.items()))


def plan_json(plan: Plan) -> dict[str, Any]:
    """The `plan.json` / `netreason plan -o json` document (`netreason.plan/v1`)."""
    return {
        "schema": PLAN_SCHEMA, "verified": plan.verified, "replace": plan.replace,
        "external_actors": {"cidrs": list(plan.actors.cidrs),
                            "ingress_controllers": [{"namespace": ns, "labels": dict(labels)}
                                                    for ns, labels in plan.actors.controllers]},
        "skipped": [{"namespace": ns, "why": why} for ns, why in plan.skipped],
        "steps": [_step_json(s) for s in plan.steps],
    }


def _step_json(s: PlanStep) -> dict[str, Any]:
    return {
        "step": s.number, "namespace": s.namespace, "directory": step_directory(s),
        "policies": list(s.policies),
        "removes": [{"policy": p.id, "file": p.source.file if p.source else None} for p in s.removes],
        "dependencies": [{"from": d.src, "to": d.target, "port": d.port, "protocol": d.protocol, "source": d.source}
                         for d in s.dependencies],
        "exposed": [{"workload": e.workload.id, "ports": [f"{p}/{n}" for p, n in e.ports], "via": e.via,
                     "why": e.reason}
                    for e in s.exposed],
        "check": s.check.as_json(),
    }


def step_directory(s: PlanStep) -> str:
    return f"{s.number:02d}-{s.namespace}"


__all__ = ["PLAN_SCHEMA", "Plan", "PlanStep", "StepCheck", "bundle_after", "dns_policy", "make_plan", "plan_json",
           "step_directory",
           "verify_step"]
