"""The admin tiers for one connection, read directly from the policies (the reference evaluator).

`AdminJudge.decide` walks the AdminNetworkPolicies in evaluation order (see `admin.py`) and
returns the first rule that matches one direction of a connection; `decide_baseline` does
the same for the BaselineAdminNetworkPolicy. `compile`/`connectivity` compute the same
answers for all pairs at once (`admin_compile.py`); the property test holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.admin import AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminRuleRef, admin_order, baseline_of, rule_ref
from ..model.bundle import Bundle, IPBlock, Protocol, Workload
from ..sets.addresses import block_contains_ip
from ..sets.selectors import matches


@dataclass(frozen=True, slots=True)
class AdminDecision:
    """What the ANP tier did with one direction: the rule that decided, or the Pass that skipped it."""

    decided_by: AdminRuleRef | None = None  # Allow or Deny
    passed_by: AdminRuleRef | None = None  # Pass: NetworkPolicy (then the baseline) decides


class AdminJudge:
    """Matches admin policies against workloads; build once per bundle."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.ordered = admin_order(bundle.admin_policies)
        self.baseline = baseline_of(bundle.admin_policies)

    def decide(self, owner: Workload, peer: Workload, dst: Workload, port: int, protocol: Protocol,
               direction: str) -> AdminDecision:
        """The ANP tier's verdict for the side of `owner` (the source for egress, the destination for ingress)."""
        for policy in self.ordered:
            ref = self._first_match(policy, owner, peer, dst, port, protocol, direction)
            if ref is not None:
                return AdminDecision(passed_by=ref) if ref.action == "Pass" else AdminDecision(decided_by=ref)
        return AdminDecision()

    def decide_baseline(self, owner: Workload, peer: Workload, dst: Workload, port: int, protocol: Protocol,
                        direction: str) -> AdminRuleRef | None:
        """The baseline rule that decides this side, when no NetworkPolicy selects the owner."""
        if self.baseline is None:
            return None
        return self._first_match(self.baseline, owner, peer, dst, port, protocol, direction)

    def selecting(self, owner: Workload, direction: str) -> list[AdminPolicy]:
        """Admin policies (ANPs in order, then the baseline) with rules for `owner` in a direction."""
        found = [p for p in self.ordered if p.rules(direction) and self.subject_matches(p, owner)]
        if self.baseline is not None and self.baseline.rules(direction) and self.subject_matches(self.baseline, owner):
            found.append(self.baseline)
        return found

    def _first_match(self, policy: AdminPolicy, owner: Workload, peer: Workload, dst: Workload, port: int,
                     protocol: Protocol, direction: str) -> AdminRuleRef | None:
        if not self.subject_matches(policy, owner):
            return None
        for i, rule in enumerate(policy.rules(direction)):
            if self.rule_matches(rule, peer, dst, port, protocol):
                return rule_ref(policy, direction, i)
        return None

    def subject_matches(self, policy: AdminPolicy, w: Workload) -> bool:
        # "Note that host-networked pods are not included in subject selection."
        if w.host_network:
            return False
        subject = policy.subject
        if not matches(subject.namespaces, self._ns_labels(w)):
            return False
        return subject.pods is None or matches(subject.pods, w.labels)

    def rule_matches(self, rule: AdminRule, peer: Workload, dst: Workload, port: int, protocol: Protocol) -> bool:
        """The traffic must match both a peer and a port of the rule."""
        return port_matches(rule.ports, dst, port, protocol) and any(self.peer_matches(p, peer) for p in rule.peers)

    def peer_matches(self, peer: AdminPeer, w: Workload) -> bool:
        if peer.networks:
            # "cluster-internal traffic will be checked against the rule as well"
            return any(block_contains_ip(IPBlock(cidr), ip) for cidr in peer.networks for ip in w.pod_ips)
        if peer.nodes is not None:
            # Node labels are not in the bundle: an empty selector ("selects all Nodes") matches
            # node traffic, i.e. hostNetwork pods; a non-empty one is assumed to match none.
            return w.host_network and peer.nodes.is_empty
        # "Note that host-networked pods are not included in this type of peer."
        if w.host_network or peer.namespaces is None or not matches(peer.namespaces, self._ns_labels(w)):
            return False
        return peer.pods is None or matches(peer.pods, w.labels)

    def _ns_labels(self, w: Workload) -> dict[str, str]:
        ns = self.bundle.namespaces.get(w.namespace)
        return ns.labels if ns else {}


def port_matches(ports: tuple[AdminPort, ...] | None, dst: Workload, port: int, protocol: Protocol) -> bool:
    """Whether an admin rule's ports admit protocol/port at destination `dst` (None: every port)."""
    if ports is None:
        return True
    return any(_one_port(p, dst, port, protocol) for p in ports)


def _one_port(p: AdminPort, dst: Workload, port: int, protocol: Protocol) -> bool:
    if p.name is not None:
        # "NamedPort selects a port on a pod(s) based on name": the destination pod's
        # container port of that name, with that port's own protocol.
        return any(cp.name == p.name and cp.protocol == protocol and cp.port == port for cp in dst.ports)
    assert p.start is not None and p.end is not None
    return p.protocol == protocol and p.start <= port <= p.end
