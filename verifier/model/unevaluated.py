"""Policy kinds netreason reads but does not evaluate, and the workloads they may affect.

A Cilium, Calico or Antrea policy, a MultiNetworkPolicy or an OVN-Kubernetes
UserDefinedNetwork can deny (or allow) traffic that the evaluated policies allow (or
deny). Their effect is not modelled, so every answer about a workload in their reach
says so instead of staying silent: a namespaced object reaches its own namespace, a
cluster-scoped one reaches every namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from .bundle import Bundle, OtherObject, SourceRef

#: Kind -> (what it is, scope) for policy-like kinds whose effect is not evaluated.
#: "cluster" kinds reach every namespace; "namespace" kinds reach their own.
UNEVALUATED_KINDS: dict[str, tuple[str, str]] = {
    "CiliumNetworkPolicy": ("Cilium policy", "namespace"),
    "CiliumClusterwideNetworkPolicy": ("Cilium cluster-wide policy", "cluster"),
    "CiliumCIDRGroup": ("Cilium CIDR group", "cluster"),
    "GlobalNetworkPolicy": ("Calico global policy", "cluster"),
    "StagedNetworkPolicy": ("Calico staged policy", "namespace"),
    "StagedGlobalNetworkPolicy": ("Calico staged global policy", "cluster"),
    "ClusterNetworkPolicy": ("cluster network policy (Antrea, or policy.networking.k8s.io/v1alpha2)", "cluster"),
    "MultiNetworkPolicy": ("policy on secondary networks (Multus)", "namespace"),
    "UserDefinedNetwork": ("OVN-Kubernetes user-defined network (isolates its pods)", "namespace"),
    "ClusterUserDefinedNetwork": ("OVN-Kubernetes cluster user-defined network (isolates its namespaces)", "cluster"),
    "AuthorizationPolicy": ("Istio authorization policy (can deny after the network allows)", "namespace"),
    "Tier": ("Calico/Antrea policy tier", "cluster"),
    "AdminNetworkPolicy": ("cluster admin policy", "cluster"),
    "BaselineAdminNetworkPolicy": ("cluster baseline admin policy", "cluster"),
}

#: The same kind as a Kubernetes one, from another API group: not ours to evaluate.
FOREIGN_PREFIXES = ("NetworkPolicy (",)


@dataclass(frozen=True, slots=True)
class UnevaluatedPolicy:
    """One policy object whose effect on traffic is not modelled."""

    kind: str
    namespace: str | None  # None: cluster-scoped, reaches every namespace
    name: str
    what: str
    source: SourceRef | None = None

    @property
    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    def reaches(self, namespace: str) -> bool:
        return self.namespace is None or self.namespace == namespace

    def note(self, with_source: bool = True) -> str:
        scope = f"namespace {self.namespace}" if self.namespace else "every namespace"
        where = f" ({self.source})" if self.source and with_source else ""
        return (f"{self.label}{where} is a {self.what} that netreason does not evaluate; it may deny or allow "
                f"traffic in {scope} beyond what is shown")


def is_unevaluated_kind(kind: str) -> bool:
    """Whether a skipped kind is policy-like (its effect on traffic is not modelled)."""
    return kind in UNEVALUATED_KINDS or kind.startswith(FOREIGN_PREFIXES)


def unevaluated_policy(obj: OtherObject) -> UnevaluatedPolicy | None:
    """The unevaluated policy an skipped object is, or None for an unrelated kind."""
    if obj.kind.startswith(FOREIGN_PREFIXES):
        return UnevaluatedPolicy(obj.kind, obj.namespace, obj.name, "policy of another API group", obj.source)
    known = UNEVALUATED_KINDS.get(obj.kind)
    if known is None:
        return None
    what, scope = known
    namespace = None if scope == "cluster" else obj.namespace
    return UnevaluatedPolicy(obj.kind, namespace, obj.name, what, obj.source)


def unevaluated_policies(bundle: Bundle) -> tuple[UnevaluatedPolicy, ...]:
    """Every unevaluated policy object of the bundle, in load order."""
    found = (unevaluated_policy(o) for o in bundle.other_objects)
    return tuple(p for p in found if p is not None)


def notes_for(bundle: Bundle, namespaces: tuple[str, ...] | list[str]) -> list[str]:
    """Notes for an answer about workloads in `namespaces`: one per unevaluated policy in reach."""
    wanted = set(namespaces)
    return [p.note() for p in unevaluated_policies(bundle) if any(p.reaches(n) for n in wanted)]


def covered_namespaces(bundle: Bundle) -> dict[str, list[str]]:
    """Namespace -> labels of unevaluated policies that may isolate it ("*" key: all namespaces)."""
    out: dict[str, list[str]] = {}
    for p in unevaluated_policies(bundle):
        out.setdefault(p.namespace or "*", []).append(p.label)
    return out
