"""dns-egress-missing and ipblock-without-dns: can each workload resolve names?

Cluster DNS is the kube-system pods labelled k8s-app=kube-dns (the label both CoreDNS and
kube-dns deployments keep) on port 53, UDP and TCP. When the bundle holds such pods they are
used as they are; otherwise an assumed pod with the standard labels is added to a copy of the
bundle, so the answer reflects only the policies the bundle has.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

from ...engine.compile import compile_bundle
from ...engine.connectivity import Connectivity, compute_connectivity
from ...engine.explain import Explainer
from ...model.bundle import NAMESPACE_NAME_LABEL, Bundle, ContainerPort, Namespace, NetworkPolicy, Protocol, Workload
from ...model.records import Finding
from .context import LintContext, to_yaml

DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53
DNS_PROTOCOLS: tuple[Protocol, ...] = ("UDP", "TCP")


@dataclass(frozen=True, slots=True)
class DnsReach:
    """Which DNS protocols a workload can use, and why not for the others."""

    workload: Workload
    allowed: tuple[Protocol, ...]
    reasons: dict[str, str]  # protocol -> explanation of the denial

    @property
    def ok(self) -> bool:
        return len(self.allowed) == len(DNS_PROTOCOLS)


class DnsView:
    """DNS reachability of every workload, against real or assumed DNS pods."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.targets = [w for w in ctx.bundle.workloads if _is_dns_pod(w)]
        self.assumed = not self.targets
        if self.assumed:
            self.bundle, target = with_assumed_dns(ctx.bundle)
            self.targets = [target]
            self.conn: Connectivity = compute_connectivity(compile_bundle(self.bundle))
        else:
            self.bundle, self.conn = ctx.bundle, ctx.conn

    @cached_property
    def explainer(self) -> Explainer:
        return Explainer(self.bundle, self.conn.compiled)

    @cached_property
    def reach(self) -> dict[str, DnsReach]:
        """workload id -> DnsReach, for every workload policy can govern (not DNS pods, not hostNetwork)."""
        out: dict[str, DnsReach] = {}
        for w in self.ctx.bundle.workloads:
            if w.host_network or _is_dns_pod(w):
                continue
            out[w.id] = self._reach(w)
        return out

    @cached_property
    def _sources(self) -> dict[Protocol, int]:
        """Per protocol, the source classes that may reach some DNS target on port 53 (asked once per target,
        not once per workload and target: a fix round needs no other connectivity)."""
        out: dict[Protocol, int] = {}
        for proto in DNS_PROTOCOLS:
            out[proto] = 0
            for t in self.targets:
                out[proto] |= self.conn.sources_to(t.id, DNS_PORT, proto)
        return out

    def _reach(self, w: Workload) -> DnsReach:
        allowed: list[Protocol] = []
        reasons: dict[str, str] = {}
        cls = self.conn.compiled.class_of_workload(w.id)
        for proto in DNS_PROTOCOLS:
            if self._sources[proto] >> cls & 1:
                allowed.append(proto)
            else:
                verdict = self.explainer.check(w.id, self.targets[0].id, DNS_PORT, proto)
                side = verdict.egress if not verdict.egress.allowed else verdict.ingress
                reasons[proto] = (f"{side.direction} at {w.id if side.direction == 'egress' else verdict.dst}: "
                                  f"{side.explain()}")
        return DnsReach(w, tuple(allowed), reasons)


def with_assumed_dns(bundle: Bundle) -> tuple[Bundle, Workload]:
    """A copy of `bundle` with a kube-dns pod in kube-system (and the namespace, if missing)."""
    name = "kube-dns"
    while bundle.workload(f"{DNS_NAMESPACE}/{name}") is not None:
        name += "-assumed"
    pod = Workload(
        "Pod", DNS_NAMESPACE, name, dict(DNS_LABELS),
        ports=(ContainerPort(DNS_PORT, "UDP", "dns"), ContainerPort(DNS_PORT, "TCP", "dns-tcp")),
    )
    namespaces = dict(bundle.namespaces)
    namespaces.setdefault(DNS_NAMESPACE, Namespace(DNS_NAMESPACE, {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}, implicit=True))
    return dataclasses.replace(bundle, namespaces=namespaces, workloads=(*bundle.workloads, pod)), pod


def _is_dns_pod(w: Workload) -> bool:
    return w.namespace == DNS_NAMESPACE and all(w.labels.get(k) == v for k, v in DNS_LABELS.items())


def dns_fix(namespace: str, dns_namespace: str = DNS_NAMESPACE) -> str:
    """An egress policy letting every pod of `namespace` reach cluster DNS on both protocols."""
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-dns", "namespace": namespace},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: dns_namespace}},
                    "podSelector": {"matchLabels": dict(DNS_LABELS)},
                }],
                "ports": [{"protocol": p, "port": DNS_PORT} for p in DNS_PROTOCOLS],
            }],
        },
    }
    return to_yaml(policy, "allow every pod in the namespace to reach cluster DNS (UDP and TCP)")


def dns_findings(ctx: LintContext, view: DnsView) -> list[Finding]:
    """dns-egress-missing: one finding per workload that lacks DNS on UDP, TCP or both."""
    out: list[Finding] = []
    target = view.targets[0]
    where = f"{target.id}" + (" (assumed: no DNS pods in the bundle)" if view.assumed else "")
    for reach in view.reach.values():
        if reach.ok:
            continue
        w = reach.workload
        missing = [p for p in DNS_PROTOCOLS if p not in reach.allowed]
        denied = " and ".join(f"53/{p}" for p in missing)
        why = reach.reasons[missing[0]]
        if reach.allowed:
            head = f"{w.id} can reach cluster DNS on 53/{reach.allowed[0]} but not {denied}"
            tail = " (DNS falls back to TCP for large answers, so some lookups fail)"
        else:
            head, tail = f"{w.id} cannot reach cluster DNS {where} on {denied}", ": every name lookup fails"
        out.append(Finding(
            "dns-egress-missing", "warning" if reach.allowed else "error", w.id,
            f"{head}{tail}. {missing[0]} {why}", w.source, dns_fix(w.namespace, target.namespace),
            {"key": "", "missing": missing, "dns_target": target.id, "assumed_dns": view.assumed},
        ))
    return out


def ipblock_findings(ctx: LintContext, view: DnsView) -> list[Finding]:
    """ipblock-without-dns: a workload granted egress to ipBlocks that cannot resolve names."""
    out: list[Finding] = []
    policies: dict[str, NetworkPolicy] | None = None  # by id, for a finding's source: built for the first
    for wid, reach in view.reach.items():
        if reach.allowed:
            continue
        for ext in ctx.conn.external_egress(wid):
            if ext.rule == "unrestricted":
                continue
            if policies is None:
                policies = {p.id: p for p in ctx.bundle.policies}
            policy = policies.get(ext.rule.split(" of ", 1)[-1])
            cidrs = ", ".join(str(b) for b in ext.blocks)
            out.append(Finding(
                "ipblock-without-dns", "warning", wid,
                f"{wid} may reach {cidrs} ({ext.rule}, {ext.ports}) but cannot resolve names: if it dials a "
                f"hostname there, the DNS lookup fails before any connection is made",
                policy.source if policy else reach.workload.source, dns_fix(reach.workload.namespace),
                {"key": f"{ext.rule}: {cidrs}"},
            ))
    return out
