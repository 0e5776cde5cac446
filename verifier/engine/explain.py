"""One question at a time: can workload A reach workload B on a port, and why (not)?

This is the reference evaluator: it reads the policies directly, pair by pair, and
keeps every reason. `connectivity.py` computes all pairs at once from compiled bit
sets; a property test holds the two to the same answers.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..model.bundle import Bundle, LabelSelector, NetworkPolicy, Peer, PolicyPort, Protocol, Rule, Workload
from ..model.errors import UnknownWorkload
from ..model.unevaluated import unevaluated_policies
from ..sets.addresses import block_contains_ip
from ..sets.selectors import describe_labels, iter_bits, matches, unmet
from ..suggest import list_hint
from .closest_miss import MissCounter
from .policy_ports import ports_admit, resolve_port

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
        return _miss_text(self.rule.policy, self.rule.index, self.reasons)


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
        return _denied_text(policies, str(closest))


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
        self._counter: MissCounter | None = None
        # Reasons a selector gives: per (namespaceSelector, namespace) and (podSelector, workload id, role).
        self._reasons: dict[tuple[LabelSelector, str] | tuple[LabelSelector, str, str], str] = {}

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
            return list(self._class_policies(direction).get(c.class_of_workload(w.id), ()))
        if known and (w.id, direction) in self._selecting:
            return list(self._selecting[w.id, direction])
        flag = "affects_ingress" if direction == "ingress" else "affects_egress"
        found = [p for p in self._policies.get(w.namespace, ()) if getattr(p, flag)
                 and matches(p.pod_selector, w.labels)]
        if known:
            self._selecting[w.id, direction] = tuple(found)
        return found

    def _class_policies(self, direction: Direction) -> dict[int, list[NetworkPolicy]]:
        """Per class, the policies isolating it for `direction`, in bundle order (one pass over the policies
        for both directions: explaining a connection reads both).

        The compiled targets are the policy's namespace's selectable classes its podSelector matches: the
        same policies `selecting` finds by matching each selector against a workload's labels.
        """
        found = self._by_class.get(direction)
        if found is None:
            assert self._compiled is not None
            targets = self._compiled.policy_targets
            ingress: dict[int, list[NetworkPolicy]] = {}
            egress: dict[int, list[NetworkPolicy]] = {}
            for p in self.bundle.policies:
                mask = targets.get(p.id, 0)
                if not mask:
                    continue
                into, out = p.affects_ingress, p.affects_egress
                for cls in iter_bits(mask):
                    if into:
                        ingress.setdefault(cls, []).append(p)
                    if out:
                        egress.setdefault(cls, []).append(p)
            self._by_class["ingress"], self._by_class["egress"] = ingress, egress
            found = ingress if direction == "ingress" else egress
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
        counted (`MissCounter`, over the compiled classes). Sides an admin tier may decide, hostNetwork
        owners, workloads from outside the bundle and explainers without the compiled bundle take `side` itself.
        """
        owner, peer = (s, d) if direction == "egress" else (d, s)
        counter = self._counter or self._miss_counter()
        owner_class = counter.class_of(owner) if counter is not None and not owner.host_network else None
        peer_class = counter.class_of(peer) if counter is not None else None
        if counter is None or owner_class is None or peer_class is None:
            return self.side(s, d, port, protocol, direction).explain()
        plan = counter.plan(owner_class, direction)
        if not plan.policies:
            return SideVerdict(direction, True, False).explain()
        allowed, closest = counter.search(plan, peer, peer_class, d, port, protocol)
        if allowed or closest is None:
            refs = tuple(RuleRef(p.id, direction, i) for p, i in allowed)
            return SideVerdict(direction, bool(refs), True, refs, plan.policies).explain()
        p, i, rule, ports_missed = closest
        # `_rule_misses`, with the ports' verdict the count found
        reasons = [port_miss(rule.ports, d, port, protocol)] if ports_missed and rule.ports is not None else []
        if rule.peers is not None:
            reasons += self._closest_peer_miss(p, rule.peers, peer, direction)
        return _denied_text(plan.policies_text, _miss_text(p.id, i, reasons))

    def _miss_counter(self) -> MissCounter | None:
        """The closest-miss counter over the compiled classes (built on first use), or None without them."""
        if self._counter is None and self._compiled is not None and self.admin is None:
            self._counter = MissCounter(self._compiled, {"ingress": self._class_policies("ingress"),
                                                         "egress": self._class_policies("egress")})
        return self._counter

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
            missing = self._pod_miss(peer.pod_selector, w, role)
            if missing:
                reasons.append(missing)
        return reasons

    def _namespace_misses(self, policy: NetworkPolicy, peer: Peer, w: Workload, role: str) -> list[str]:
        # API reference, NetworkPolicyPeer.podSelector: "If namespaceSelector is also set, then
        # the NetworkPolicyPeer as a whole selects the pods matching podSelector in the Namespaces
        # selected by NamespaceSelector. Otherwise it selects the pods matching podSelector in
        # the policy's own namespace."
        selector = peer.namespace_selector
        if selector is None:
            if w.namespace == policy.namespace:
                return []
            return [f"needs a pod in namespace {policy.namespace} (no namespaceSelector); {role} is in {w.namespace}"]
        # remembered: lint's explanations ask the same few selectors of the same namespaces
        found = self._reasons.get((selector, w.namespace))
        if found is None:
            ns = self.bundle.namespaces.get(w.namespace)
            found = _unmet_text(selector, ns.labels if ns else {}, f"namespace {w.namespace}", "namespace ")
            self._reasons[selector, w.namespace] = found
        return [found] if found else []

    def _pod_miss(self, selector: LabelSelector, w: Workload, role: str) -> str:
        """Why `selector` does not match `w`'s labels ("" when it matches); remembered for the bundle's workloads."""
        if self._workloads.get(w.id) is not w:
            return _unmet_text(selector, w.labels, role)
        found = self._reasons.get((selector, w.id, role))
        if found is None:
            found = self._reasons[selector, w.id, role] = _unmet_text(selector, w.labels, role)
        return found


def _unmet_text(selector: LabelSelector, labels: Mapping[str, str], holder: str, what: str = "") -> str:
    """`needs <what><unmet requirements>; <holder> has <their keys' labels>`, or "" when `labels` match."""
    missing = unmet(selector, labels)
    if not missing:
        return ""
    keys = list(dict.fromkeys(r.key for r in missing))
    needs = ",".join(str(r) for r in missing)
    return f"needs {what}{needs}; {holder} has {describe_labels(labels, keys)}"


def port_misses(ports: tuple[PolicyPort, ...] | None, dst: Workload, port: int, protocol: Protocol) -> list[str]:
    """[] when some policy port admits protocol/port at `dst`, else why not."""
    if ports is None or ports_admit(ports, dst, port, protocol):
        return []
    return [port_miss(ports, dst, port, protocol)]


def port_miss(ports: tuple[PolicyPort, ...], dst: Workload, port: int, protocol: Protocol) -> str:
    """Why `ports`, which do not admit protocol/port at `dst`, miss it."""
    listed = ", ".join(_describe_policy_port(pp, dst) for pp in ports)
    return f"allows only {listed}, not {protocol}/{port}"


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


def _miss_text(policy: str, index: int, reasons: Sequence[str]) -> str:
    """How a denied side names its closest miss: `rule 0 of allow-web needs app=web; source has app=api`."""
    return f"rule {index} of {policy.split('/', 1)[1]} " + "; ".join(reasons)


def _denied_text(policies: str, closest: str) -> str:
    """A denied side's text when its policies have rules: the policies, then the closest miss."""
    return f"denied: selected by {policies}; no rule matches; closest miss: {closest}"


def _unique(*ws: Workload) -> list[Workload]:
    return list({w.id: w for w in ws}.values())


def _suggest(ref: str, known: dict[str, Workload]) -> str:
    return list_hint(ref, known, n=3)
