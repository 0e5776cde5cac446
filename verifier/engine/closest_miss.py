"""The closest miss of a denied side, found by counting each rule's reasons over precomputed matches.

`Explainer.side_explanation` names one miss among every rule of every policy selecting a side's
owner; lint's one-sided rules ask it for thousands of sides (6,777 on the 5,413-pod benchmark,
five rules each). Here each rule is turned once into plain values: its numeric port ranges and,
per peer, the digits ("1" = matches) of the namespaces its namespaceSelector selects and of the
compiled classes its podSelector selects. Counting a rule's reasons for one peer is then a few
comparisons; the reasons of the chosen miss alone are written, by the explainer.

Counts equal `len` of the reasons `Explainer.side_without_admin` writes: one for a port list that
does not admit the port, and per peer one for its namespace half and one for its pod half (an
ipBlock peer, or a hostNetwork workload against a selector peer, one in all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..model.bundle import LabelSelector, NetworkPolicy, Peer, PolicyPort, Protocol, Rule, Workload
from ..sets.addresses import block_contains_ip
from ..sets.selectors import LabelIndex, matches
from .policy_ports import numeric_range, ports_admit

if TYPE_CHECKING:
    from ..model.bundle import IPBlock
    from .compile import CompiledBundle

Direction = Literal["ingress", "egress"]

#: One peer: (ipBlock, own namespace, namespace digits, class digits). A selector peer without a
#: namespaceSelector has its policy's namespace and no namespace digits; no podSelector, no class digits.
_PeerCheck = tuple["IPBlock | None", "str | None", "str | None", "str | None"]
#: (protocol, first, last) of each policy port given by number (or by none: every port).
_Ranges = tuple[tuple[str, int, int], ...]
#: One rule: (policy, index, rule, numeric port ranges (None: every port), named ports, peers).
_RuleCheck = tuple[NetworkPolicy, int, Rule, "_Ranges | None", "tuple[PolicyPort, ...]", "tuple[_PeerCheck, ...]"]

#: No closest miss yet: every count matters.
_NO_BOUND = 1 << 30


@dataclass(frozen=True, slots=True)
class SidePlan:
    """The policies isolating one class for a direction, and their rules of it made ready to count."""

    policies: tuple[str, ...]  # their ids, in bundle order
    policies_text: str  # the ids joined by ", "
    rules: tuple[_RuleCheck, ...]


#: The first rule with the fewest reasons: (policy, index, rule, whether its ports miss).
Closest = tuple[NetworkPolicy, int, Rule, bool]
#: The admitting rules (policy, index), and the closest miss.
Search = tuple[list[tuple[NetworkPolicy, int]], "Closest | None"]


class MissCounter:
    """Counts the reasons each rule misses a connection by, for the workloads of one compiled bundle.

    A peer's podSelector is matched per compiled class: the classes keep every label key a
    policy's selectors name, so a selector matches a class's labels exactly when it matches
    its members'. `policies_of[direction]` gives, per class, the policies isolating it: plain
    mappings, not a callback into the explainer, which holds this counter (a cycle through the
    compiled bundle would keep every object of it alive until a full collection).
    """

    def __init__(self, compiled: CompiledBundle,
                 policies_of: Mapping[Direction, Mapping[int, Sequence[NetworkPolicy]]]) -> None:
        self._compiled = compiled
        self._policies_of = policies_of
        namespaces = compiled.bundle.namespaces
        names = sorted(namespaces)
        self._ns_position = {n: i for i, n in enumerate(names)}
        self._ns_index = LabelIndex([namespaces[n].labels for n in names])
        self._class_index = LabelIndex([c.labels for c in compiled.classes])
        # Per selector (the loader shares most equal ones, and each keeps its hash), its digits: "1" = matches.
        self._ns_digits: dict[LabelSelector, str] = {}
        self._class_digits: dict[LabelSelector, str] = {}
        self._plans: dict[Direction, dict[int, SidePlan]] = {"ingress": {}, "egress": {}}
        # Per port list (id), its ranges: policies share their port lists.
        self._ports: dict[int, tuple[tuple[PolicyPort, ...], _Ranges, tuple[PolicyPort, ...]]] = {}

    def class_of(self, w: Workload) -> int | None:
        """The compiled class of `w`, or None for a workload that is not the bundle's own."""
        c = self._compiled
        index = c.workload_index.get(w.id)
        if index is None or c.bundle.workloads[index] is not w:
            return None
        return c.class_of[index]

    def plan(self, owner: int, direction: Direction) -> SidePlan:
        """The side of `direction` at class `owner` (not hostNetwork)."""
        found = self._plans[direction].get(owner)
        if found is None:
            policies = self._policies_of[direction].get(owner, ())
            rules = [self._rule_check(p, i, rule) for p in policies
                     for i, rule in enumerate(p.ingress if direction == "ingress" else p.egress)]
            ids = tuple(p.id for p in policies)
            found = self._plans[direction][owner] = SidePlan(ids, ", ".join(ids), tuple(rules))
        return found

    def search(self, plan: SidePlan, peer: Workload, pc: int, dst: Workload, port: int, protocol: Protocol) -> Search:
        """The admitting rules and the closest miss among the plan's rules, for the connection at hand.

        `peer` (the other end) is a workload of the compiled bundle, of class `pc`. A rule whose count is
        not under the closest so far is left as soon as that is known: only a closer miss, or none, matters.
        """
        wns = peer.namespace
        wni = self._ns_position.get(wns, len(self._ns_position))  # an unlisted namespace: the last digit
        host, ips = peer.host_network, peer.pod_ips
        best = _NO_BOUND
        closest: Closest | None = None
        allowed: list[tuple[NetworkPolicy, int]] = []
        for p, i, rule, ranges, named, peers in plan.rules:
            missed = False  # the ports
            if ranges is not None:
                missed = True
                for proto, lo, hi in ranges:
                    if proto == protocol and lo <= port <= hi:
                        missed = False
                        break
                if missed and named and ports_admit(named, dst, port, protocol):
                    missed = False
                if missed and best <= 1:
                    continue
            n = 1 if missed else 0
            if peers:
                fewest = best - n  # the peers' count matters only under this
                for block, own, ns_digits, class_digits in peers:
                    if block is not None:
                        k = 0 if any(block_contains_ip(block, ip) for ip in ips) else 1
                    elif host:
                        k = 1
                    else:
                        k = (wns != own) if ns_digits is None else (ns_digits[wni] != "1")
                        if class_digits is not None and class_digits[pc] != "1":
                            k += 1
                    if k < fewest:
                        fewest = k
                        if not k:
                            break
                n += fewest
            if not n:
                allowed.append((p, i))
            elif n < best:  # the first of the fewest, as `min` picks
                best, closest = n, (p, i, rule, missed)
        return allowed, closest

    def _rule_check(self, p: NetworkPolicy, i: int, rule: Rule) -> _RuleCheck:
        ports = rule.ports
        ranges: _Ranges | None = None
        named: tuple[PolicyPort, ...] = ()
        if ports is not None:
            hit = self._ports.get(id(ports))
            if hit is None or hit[0] is not ports:
                hit = self._ports[id(ports)] = (
                    ports, tuple([(pp.protocol, *numeric_range(pp)) for pp in ports if not isinstance(pp.port, str)]),
                    tuple([pp for pp in ports if isinstance(pp.port, str)]))
            ranges, named = hit[1], hit[2]
        return (p, i, rule, ranges, named, tuple([self._peer_check(p, peer) for peer in rule.peers or ()]))

    def _peer_check(self, p: NetworkPolicy, peer: Peer) -> _PeerCheck:
        if peer.ip_block is not None:
            return (peer.ip_block, None, None, None)
        # API reference, NetworkPolicyPeer.podSelector: "If namespaceSelector is also set, then the
        # NetworkPolicyPeer as a whole selects the pods matching podSelector in the Namespaces selected
        # by NamespaceSelector. Otherwise it selects the pods matching podSelector in the policy's own namespace."
        ns, pods = peer.namespace_selector, peer.pod_selector
        return (None, p.namespace if ns is None else None,
                None if ns is None else self._ns_digits.get(ns) or self._namespace_digits(ns),
                None if pods is None else self._class_digits.get(pods) or self._pod_digits(pods))

    def _namespace_digits(self, selector: LabelSelector) -> str:
        """Per namespace in name order, then for a namespace the bundle does not list (no labels)."""
        index = self._ns_index
        found = _digits(index.select(selector), index.size) + ("1" if matches(selector, {}) else "0")
        self._ns_digits[selector] = found
        return found

    def _pod_digits(self, selector: LabelSelector) -> str:
        """Per compiled class (a bundle without workloads has none: its "" is computed again, at no cost)."""
        found = self._class_digits[selector] = _digits(self._class_index.select(selector), self._class_index.size)
        return found


def _digits(mask: int, size: int) -> str:
    """`mask`'s binary digits, lowest first, padded to `size`: digit i is "1" when bit i is set."""
    return (bin(mask)[:1:-1] if mask else "").ljust(size, "0")
