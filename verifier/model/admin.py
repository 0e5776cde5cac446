"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) as records.

Both are cluster-scoped and select pods across namespaces (kubernetes-sigs/network-policy-api).
Evaluation order for one direction of one connection (API reference, AdminNetworkPolicySpec):

1. AdminNetworkPolicies, lowest `priority` value first; inside one, rules in written order.
   The first rule whose peers and ports match decides: Allow and Deny are final, Pass skips
   the remaining ANP rules and hands the traffic to step 2.
2. NetworkPolicies, when any selects the pod for the direction (their usual semantics).
3. The BaselineAdminNetworkPolicy (named `default`; at most one): first matching rule,
   Allow or Deny.
4. Otherwise the traffic is allowed.

"The behavior is undefined if two ANP objects have same priority": netreason orders them by
name and reports the overlap (finding `anp-same-priority`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .bundle import Bundle, LabelSelector, Protocol, SourceRef

AdminAction = Literal["Allow", "Deny", "Pass"]
AdminKind = Literal["AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]
ADMIN_KINDS: tuple[AdminKind, ...] = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
ADMIN_GROUP = "policy.networking.k8s.io"
ADMIN_VERSION = "v1alpha1"


@dataclass(frozen=True, slots=True)
class AdminSubject:
    """The pods a policy applies to: pods matching `pods` (None: all) in namespaces matching `namespaces`."""

    namespaces: LabelSelector
    pods: LabelSelector | None = None

    def __str__(self) -> str:
        where = f"namespaces {self.namespaces}"
        return f"pods {self.pods} in {where}" if self.pods is not None else f"every pod in {where}"


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """One element of `from`/`to`: exactly one of namespaces, pods (with namespaces), networks, nodes."""

    namespaces: LabelSelector | None = None
    pods: LabelSelector | None = None  # set with `namespaces` for a `pods` peer
    networks: tuple[str, ...] = ()
    nodes: LabelSelector | None = None

    def __str__(self) -> str:
        if self.networks:
            return "networks " + ", ".join(self.networks)
        if self.nodes is not None:
            return f"nodes {self.nodes}"
        if self.pods is not None:
            return f"pods {self.pods} in namespaces {self.namespaces}"
        return f"every pod in namespaces {self.namespaces}"


@dataclass(frozen=True, slots=True)
class AdminPort:
    """portNumber (start == end), portRange (start..end), or namedPort (`name`, any protocol)."""

    protocol: Protocol = "TCP"
    start: int | None = None
    end: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.name is not None:
            return f"named port {self.name}"
        span = str(self.start) if self.start == self.end else f"{self.start}-{self.end}"
        return f"{self.protocol}/{span}"


@dataclass(frozen=True, slots=True)
class AdminRule:
    """One ingress or egress rule; `ports` None: every port of every protocol."""

    action: AdminAction
    peers: tuple[AdminPeer, ...]
    ports: tuple[AdminPort, ...] | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """An AdminNetworkPolicy (with priority) or the BaselineAdminNetworkPolicy (priority None)."""

    kind: AdminKind
    name: str
    subject: AdminSubject
    priority: int | None = None
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def is_baseline(self) -> bool:
        return self.kind == "BaselineAdminNetworkPolicy"

    @property
    def label(self) -> str:
        if self.is_baseline:
            return f"BaselineAdminNetworkPolicy {self.name}"
        return f"AdminNetworkPolicy {self.name} (priority {self.priority})"

    def rules(self, direction: str) -> tuple[AdminRule, ...]:
        return self.ingress if direction == "ingress" else self.egress


@dataclass(frozen=True, slots=True)
class AdminRuleRef:
    """Rule `index` of one direction of an admin policy, with what it does."""

    policy: str  # AdminPolicy.id
    label: str  # AdminPolicy.label (kind, name, priority)
    direction: str
    index: int
    action: AdminAction
    name: str = ""
    priority: int | None = None

    def __str__(self) -> str:
        named = f" ({self.name!r})" if self.name else ""
        return f"{self.action} by {self.direction} rule {self.index}{named} of {self.label}"


def admin_order(policies: tuple[AdminPolicy, ...]) -> list[AdminPolicy]:
    """ANPs in evaluation order: priority ascending, then name (the spec leaves ties undefined)."""
    return sorted((p for p in policies if not p.is_baseline), key=lambda p: (p.priority or 0, p.name))


def baseline_of(policies: tuple[AdminPolicy, ...]) -> AdminPolicy | None:
    """The BaselineAdminNetworkPolicy, if the bundle has one."""
    return next((p for p in policies if p.is_baseline), None)


def admin_policy_named(bundle: Bundle, ref: str) -> AdminPolicy | None:
    """The admin policy a claim names: `AdminNetworkPolicy/name`, `BaselineAdminNetworkPolicy/default`, or a bare
    name."""
    for p in bundle.admin_policies:
        if ref in (p.id, p.name):
            return p
    return None


def rule_ref(policy: AdminPolicy, direction: str, index: int) -> AdminRuleRef:
    rule = policy.rules(direction)[index]
    return AdminRuleRef(policy.id, policy.label, direction, index, rule.action, rule.name, policy.priority)


def ref_json(ref: AdminRuleRef) -> dict[str, Any]:
    """An admin rule as `check --format json` lists it (a NetworkPolicy rule's keys, plus more)."""
    return {"policy": ref.policy, "direction": ref.direction, "rule": ref.index, "action": ref.action,
            "rule_name": ref.name, "priority": ref.priority, "kind": ref.policy.split("/", 1)[0]}
