"""One question at a time: can workload A reach workload B on a port, and why (not)?

This is the reference evaluator: it reads the policies directly, pair by pair, and
keeps every reason. `connectivity.py` computes all pairs at once from compiled bit
sets; a property test holds the two to the same answers.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..model.bundle import Bundle, NetworkPolicy, Peer, PolicyPort, Protocol, Rule, Workload
from ..model.errors import UnknownWorkload
from ..model.unevaluated import unevaluated_policies
from ..sets.addresses import block_contains_ip
from ..sets.selectors import describe_labels, iter_bits, matches, unmet
from ..suggest import list_hint

if TYPE_CHECKING:
    from ..model.admin import AdminRuleRef
    from .admin_explain import AdminJudge
    from .compile import CompiledBundle

Direction = Literal["ingress", "egress"]

HOST_NETWORK_NOTE = (
    "{id} uses hostNetwork: the NetworkPolicy API leaves this to the network plugin; "
    "netreason follows the common behaviour (Calico, Cilium): its traffic is node traffic, "
    "outside policy (never selected, never matched by pod or namespace selectors)"
)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Rule `index` of `direction` in policy `policy` (`namespace/name`)."""

    policy: str
    direction: Direction
    index: int

    def __str__(self) -> str:
        return f"{self.direction} rule {self.index} of {self.policy}"


@dataclass(frozen=True, slots=True)
class Miss:
    """Why one rule did not admit the connection; fewer reasons = closer miss."""

    rule: RuleRef
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        name = self.rule.policy.split("/", 1)[1]
        return f"rule {self.rule.index} of {name} " + "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class SideVerdict:
    """The verdict of one direction: egress at the source or ingress at the destination."""

    direction: Direction
    allowed: bool
    isolated: bool
    allowed_by: tuple[RuleRef, ...] = ()
    selected_by: tuple[str, ...] = ()
    misses: tuple[Miss, ...] = ()
    note: str = ""
    #: The AdminNetworkPolicy (or baseline) rule that decided this side, if one did.
    admin: AdminRuleRef | None = None
    #: The ANP rule that passed this side on to NetworkPolicy (action Pass).
    passed_by: AdminRuleRef | None = None

    def explain(self) -> str:
        text = self._explain()
        return f"{text} (passed on to NetworkPolicy: {self.passed_by})" if self.passed_by else text

    def _explain(self) -> str:
        where = "source" if self.direction == "egress" else "destination"
        if self.note:
            return self.note
        if self.admin is not None:
            return f"{'allowed' if self.allowed else 'denied'}: {self.admin}"
        if not self.isolated:
            return f"{self.direction} not restricted: no policy with {self.direction.capitalize()} selects the {where}"
        if self.allowed:
            return "allowed by " + ", ".join(str(r) for r in self.allowed_by)
        policies = ", ".join(self.selected_by)
        if not self.misses:
            return f"denied: {policies} isolate the {where} for {self.direction} and have no {self.direction} rules"
        closest = min(self.misses, key=lambda m: len(m.reasons))
        return f"denied: selected by {policies}; no rule matches; closest miss: {closest}"


@dataclass(frozen=True, slots=True)
class Verdict:
    src: str
    dst: str
    port: int
    protocol: Protocol
    egress: SideVerdict
    ingress: SideVerdict
    notes: tuple[str, ...] = field(default=())
    #: How the asked destination became (dst, port): a Service port through its targetPort, a named port.
    via: str = ""

    @property
    def allowed(self) -> bool:
        """A connection needs the source's egress and the destination's ingress."""
        return self.egress.allowed and self.ingress.allowed

    def explain(self) -> str:
        head = "ALLOWED" if self.allowed else "DENIED"
        lines = [
            f"{head}: {self.src} -> {self.dst} {self.protocol}/{self.port}",
            *([f"  via: {self.via}"] if self.via else []),
            f"  egress at {self.src}: {self.egress.explain()}",
            f"  ingress at {self.dst}: {self.ingress.explain()}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


class Explainer:
    """Answers single questions over a bundle; build once, ask many times."""

    def __init__(self, bundle: Bundle, compiled: CompiledBundle | None = None) -> None:
        self.bundle = bundle
        # The classes each policy selects, as compiled: `selecting` reads them instead of matching selectors.
        self._compiled = compiled if compiled is not None and compiled.bundle is bundle else None
        self._by_class: dict[Direction, dict[int, list[NetworkPolicy]]] = {}
        self._workloads = {w.id: w for w in bundle.workloads}
        self._unevaluated = unevaluated_policies(bundle)
        self.admin: AdminJudge | None = None
        if bundle.admin_policies:
            from .admin_explain import AdminJudge  # only bundles with admin policies load it

            self.admin = AdminJudge(bundle)
        self._policies: dict[str, list[NetworkPolicy]] = defaultdict(list)
        for p in bundle.policies:
            self._policies[p.namespace].append(p)
        # Policies selecting each of the bundle's workloads, per direction: lint explains thousands of
        # sides whose owners repeat (6,777 sides, 1,298 owners on the 5,413-pod benchmark).
        self._selecting: dict[tuple[str, Direction], tuple[NetworkPolicy, ...]] = {}

    def workload(self, ref: str) -> Workload:
        w = self._workloads.get(ref)
        if w is None:
            raise UnknownWorkload(f"no workload named {ref!r} in the bundle{_suggest(ref, self._workloads)}")
        return w

    def check(self, src: str, dst: str, port: int, protocol: Protocol = "TCP") -> Verdict:
        """The verdict for one connection, with the rules that decide it.

        Raises:
            UnknownWorkload: `src` or `dst` names no workload.
        """
        s, d = self.workload(src), self.workload(dst)
        egress = self.side(s, d, port, protocol, "egress")
        ingress = self.side(s, d, port, protocol, "ingress")
        notes = tuple(HOST_NETWORK_NOTE.format(id=w.id) for w in _unique(s, d) if w.host_network)
        notes += tuple(p.note() for p in self._unevaluated if p.reaches(s.namespace) or p.reaches(d.namespace))
        return Verdict(src, dst, port, protocol, egress, ingress, notes)

    def selecting(self, w: Workload, direction: Direction) -> list[NetworkPolicy]:
        """Policies that isolate `w` for a direction (hostNetwork pods are never selected)."""
        if w.host_network:
            return []
        known = self._workloads.get(w.id) is w  # only the bundle's own workloads are remembered
        if known and self._compiled is not None:
            c = self._compiled
            return list(self._class_policies(direction).get(c.class_of[c.workload_index[w.id]], ()))
        if known and (w.id, direction) in self._selecting:
            return list(self._selecting[w.id, direction])
        flag = "affects_ingress" if direction == "ingress" else "affects_egress"
        found = [p for p in self._policies.get(w.namespace, ()) if getattr(p, flag)
                 and matches(p.pod_selector, w.labels)]
        if known:
            self._selecting[w.id, direction] = tuple(found)
        return found

    def _class_policies(self, direction: Direction) -> dict[int, list[NetworkPolicy]]:
        """Per class, the policies isolating it for `direction`, in bundle order (one pass over the policies).

        The compiled targets are the policy's namespace's selectable classes its podSelector matches: the
        same policies `selecting` finds by matching each selector against a workload's labels.
        """
        found = self._by_class.get(direction)
        if found is None:
            assert self._compiled is not None
            targets = self._compiled.policy_targets
            flag = "affects_ingress" if direction == "ingress" else "affects_egress"
            found = self._by_class[direction] = {}
            for p in self.bundle.policies:
                if getattr(p, flag):
                    for cls in _bits_of(targets.get(p.id, 0)):
                        found.setdefault(cls, []).append(p)
        return found

    def side(self, s: Workload, d: Workload, port: int, protocol: Protocol, direction: Direction) -> SideVerdict:
        owner = s if direction == "egress" else d
        if owner.host_network:
            return SideVerdict(direction, True, False,
                               note=f"{direction} not restricted: " + HOST_NETWORK_NOTE.format(id=owner.id))
        policies = self.selecting(owner, direction)
        if self.admin is not None:
            decided = self._admin_side(s, d, port, protocol, direction, policies)
            if decided is not None:
                return decided
        return self.side_without_admin(s, d, port, protocol, direction, policies)

    def _admin_side(self, s: Workload, d: Workload, port: int, protocol: Protocol, direction: Direction,
                    policies: list[NetworkPolicy]) -> SideVerdict | None:
        """The side's verdict when an admin tier decides it; None when NetworkPolicy alone does.

        ANPs first (Allow and Deny are final, Pass hands over); then NetworkPolicy when one
        selects the pod; then the baseline; then allowed.
        """
        assert self.admin is not None
        owner, peer = (s, d) if direction == "egress" else (d, s)
        tier = self.admin.decide(owner, peer, d, port, protocol, direction)
        ids = tuple(p.id for p in policies)
        rule = tier.decided_by
        if rule is None and not policies:
            rule = self.admin.decide_baseline(owner, peer, d, port, protocol, direction)
        if rule is not None:
            return SideVerdict(direction, rule.action == "Allow", bool(policies), (), ids, admin=rule,
                               passed_by=tier.passed_by)
        if tier.passed_by is None:
            return None
        verdict = self.side_without_admin(s, d, port, protocol, direction, policies)
        return dataclasses.replace(verdict, passed_by=tier.passed_by)

    def side_without_admin(self, s: Workload, d: Workload, port: int, protocol: Protocol, direction: Direction,
                           policies: list[NetworkPolicy]) -> SideVerdict:
        """NetworkPolicy's verdict for one side (the owner is not hostNetwork)."""
        if not policies:
            return SideVerdict(direction, True, False)
        peer = d if direction == "egress" else s
        allowed: list[RuleRef] = []
        misses: list[Miss] = []
        for p in policies:
            for i, rule in enumerate(p.ingress if direction == "ingress" else p.egress):
                ref = RuleRef(p.id, direction, i)
                reasons = self._rule_misses(p, rule, peer, d, port, protocol, direction)
                if reasons:
                    misses.append(Miss(ref, tuple(reasons)))
                else:
                    allowed.append(ref)
        ids = tuple(p.id for p in policies)
        return SideVerdict(direction, bool(allowed), True, tuple(allowed), ids, tuple(misses))

    def side_explanation(self, s: Workload, d: Workload, port: int, protocol: Protocol,
                         direction: Direction) -> str:
        """`side(...).explain()`, building the reasons of only the closest miss: the one it names.

        A denied side's text names one miss among every rule of every policy selecting the owner;
        lint explains thousands of sides (6,777 on the 5,413-pod benchmark), so the others are only
        counted. Sides an admin tier may decide, and hostNetwork owners, take `side` itself.
        """
        owner = s if direction == "egress" else d
        if owner.host_network or self.admin is not None:
            return self.side(s, d, port, protocol, direction).explain()
        policies = self.selecting(owner, direction)
        if not policies:
            return SideVerdict(direction, True, False).explain()
        peer = d if direction == "egress" else s
        allowed: list[RuleRef] = []
        closest: tuple[int, NetworkPolicy, int, Rule] | None = None
        for p in policies:
            for i, rule in enumerate(p.ingress if direction == "ingress" else p.egress):
                n = self._rule_miss_count(p, rule, peer, d, port, protocol, closest[0] if closest else _NO_BOUND)
                if not n:
                    allowed.append(RuleRef(p.id, direction, i))
                elif closest is None or n < closest[0]:  # the first of the fewest, as `min` picks
                    closest = (n, p, i, rule)
        ids = tuple(p.id for p in policies)
        if allowed or closest is None:
            return SideVerdict(direction, bool(allowed), True, tuple(allowed), ids).explain()
        _, p, i, rule = closest
        miss = Miss(RuleRef(p.id, direction, i), tuple(self._rule_misses(p, rule, peer, d, port, protocol, direction)))
        return SideVerdict(direction, False, True, (), ids, (miss,)).explain()

    def _rule_miss_count(self, policy: NetworkPolicy, rule: Rule, peer: Workload, dst: Workload,
                         port: int, protocol: Protocol, below: int) -> int:
        """len(`_rule_misses`) when it is under `below` (the closest miss so far), else some count >= `below`.

        Only a closer miss, or none (an allowing rule), changes the explanation: once a miss of one reason
        is known, a rule whose ports already miss is not looked at further.
        """
        n = 0 if _ports_admit(rule.ports, dst, port, protocol) else 1
        if n >= below or not rule.peers:
            return n
        fewest = below - n  # the peers' count matters only under this
        for p in rule.peers:
            fewest = min(fewest, self._peer_miss_count(policy, p, peer))
            if not fewest:
                break
        return n + fewest

    def _peer_miss_count(self, policy: NetworkPolicy, peer: Peer, w: Workload) -> int:
        """len(`peer_misses`), without writing the reasons."""
        if peer.ip_block is not None:
            block = peer.ip_block
            return 0 if any(block_contains_ip(block, ip) for ip in w.pod_ips) else 1
        if w.host_network:
            return 1
        if peer.namespace_selector is None:
            n = 0 if w.namespace == policy.namespace else 1
        else:
            ns = self.bundle.namespaces.get(w.namespace)
            n = 0 if matches(peer.namespace_selector, ns.labels if ns else {}) else 1
        if peer.pod_selector is not None and not matches(peer.pod_selector, w.labels):
            n += 1
        return n

    def _rule_misses(
        self, policy: NetworkPolicy, rule: Rule, peer: Workload, dst: Workload,
        port: int, protocol: Protocol, direction: Direction,
    ) -> list[str]:
        reasons = list(port_misses(rule.ports, dst, port, protocol))
        if rule.peers is not None:
            reasons += self._closest_peer_miss(policy, rule.peers, peer, direction)
        return reasons

    def _closest_peer_miss(self, policy: NetworkPolicy, peers: tuple[Peer, ...], w: Workload,
                           direction: Direction) -> list[str]:
        best: list[str] | None = None
        for peer in peers:
            reasons = self.peer_misses(policy, peer, w, direction)
            if not reasons:
                return []
            if best is None or len(reasons) < len(best):
                best = reasons
        return best or []

    def peer_misses(self, policy: NetworkPolicy, peer: Peer, w: Workload, direction: Direction) -> list[str]:
        """Why a peer does not match workload `w` ([] when it matches)."""
        role = "source" if direction == "ingress" else "destination"
        if peer.ip_block is not None:
            return _ip_block_misses(peer, w, role)
        if w.host_network:
            return [f"needs a pod; {role} {w.id} uses hostNetwork (node traffic, not selectable)"]
        reasons = self._namespace_misses(policy, peer, w, role)
        if peer.pod_selector is not None:
            missing = unmet(peer.pod_selector, w.labels)
            if missing:
                keys = list(dict.fromkeys(r.key for r in missing))
                needs = ",".join(str(r) for r in missing)
                reasons.append(f"needs {needs}; {role} has {describe_labels(w.labels, keys)}")
        return reasons

    def _namespace_misses(self, policy: NetworkPolicy, peer: Peer, w: Workload, role: str) -> list[str]:
        # API reference, NetworkPolicyPeer.podSelector: "If namespaceSelector is also set, then
        # the NetworkPolicyPeer as a whole selects the pods matching podSelector in the Namespaces
        # selected by NamespaceSelector. Otherwise it selects the pods matching podSelector in
        # the policy's own namespace."
        if peer.namespace_selector is None:
            if w.namespace == policy.namespace:
                return []
            return [f"needs a pod in namespace {policy.namespace} (no namespaceSelector); {role} is in {w.namespace}"]
        ns = self.bundle.namespaces.get(w.namespace)
        labels = ns.labels if ns else {}
        missing = unmet(peer.namespace_selector, labels)
        if not missing:
            return []
        keys = list(dict.fromkeys(r.key for r in missing))
        needs = ",".join(str(r) for r in missing)
        return [f"needs namespace {needs}; namespace {w.namespace} has {describe_labels(labels, keys)}"]


def resolve_port(pp: PolicyPort, dst: Workload) -> tuple[int, int] | None:
    """The inclusive port range a policy port stands for at destination `dst`.

    API reference, NetworkPolicyPort.port: "If this is a named port, it refers to the
    named port on the pod" — the destination pod, whose container port must also have
    the rule's protocol. Returns None for a name the pod does not serve.
    """
    if pp.port is None:
        return (1, 65535)
    if isinstance(pp.port, int):
        return (pp.port, pp.end_port if pp.end_port is not None else pp.port)
    for cp in dst.ports:
        if cp.name == pp.port and cp.protocol == pp.protocol:
            return (cp.port, cp.port)
    return None


def _bits_of(mask: int) -> list[int]:
    """`iter_bits(mask)`, reading only from the lowest set bit up.

    A policy's targets are classes of its namespace: a few bits, often far up a mask of thousands
    (20,000 classes on a 100,000-pod cluster), where `iter_bits` alone would write out every digit below.
    """
    if not mask:
        return []
    low = (mask & -mask).bit_length() - 1
    return [low + i for i in iter_bits(mask >> low)]


#: No closest miss yet: every count matters.
_NO_BOUND = 1 << 30


def _ports_admit(ports: tuple[PolicyPort, ...] | None, dst: Workload, port: int, protocol: Protocol) -> bool:
    """Whether some policy port admits protocol/port at `dst` (no `ports`: every port)."""
    if ports is None:
        return True
    for pp in ports:
        rng = resolve_port(pp, dst)
        if pp.protocol == protocol and rng is not None and rng[0] <= port <= rng[1]:
            return True
    return False


def port_misses(ports: tuple[PolicyPort, ...] | None, dst: Workload, port: int, protocol: Protocol) -> list[str]:
    """[] when some policy port admits protocol/port at `dst`, else why not."""
    if ports is None or _ports_admit(ports, dst, port, protocol):
        return []
    listed = ", ".join(_describe_policy_port(pp, dst) for pp in ports)
    return [f"allows only {listed}, not {protocol}/{port}"]


def _describe_policy_port(pp: PolicyPort, dst: Workload) -> str:
    if pp.port is None:
        return f"{pp.protocol}/all"
    if isinstance(pp.port, int):
        end = f"-{pp.end_port}" if pp.end_port is not None and pp.end_port != pp.port else ""
        return f"{pp.protocol}/{pp.port}{end}"
    rng = resolve_port(pp, dst)
    resolved = f"={rng[0]}" if rng else f" (not a {pp.protocol} port of {dst.id})"
    return f"{pp.protocol}/{pp.port}{resolved}"


def _ip_block_misses(peer: Peer, w: Workload, role: str) -> list[str]:
    block = peer.ip_block
    assert block is not None
    if not w.pod_ips:
        return [f"needs an address in {block}; {role} {w.id} has no known pod IP (status.podIP)"]
    if any(block_contains_ip(block, ip) for ip in w.pod_ips):
        return []
    return [f"needs an address in {block}; {role} has {', '.join(w.pod_ips)}"]


def _unique(*ws: Workload) -> list[Workload]:
    return list({w.id: w for w in ws}.values())


def _suggest(ref: str, known: dict[str, Workload]) -> str:
    return list_hint(ref, known, n=3)
