"""The admin tiers in the compiled engine: AdminNetworkPolicy and baseline rules as ordered bit sets.

A rule becomes an `AdminGrant`: the source classes it applies to and, per destination
classes, the port atoms it matches (named ports resolve per destination class). For one
source class, a tier is a first-match list over destinations and atoms; `apply_tier`
turns it, together with what the next tier allows, into plain (destinations, atoms)
entries, by splitting the destinations into parts no rule of the tier tells apart.

Only bundles with admin policies take this path; the NetworkPolicy-only engine is unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.admin import AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminRuleRef, admin_order, baseline_of, rule_ref
from ..model.bundle import PROTOCOLS, IPBlock, Protocol
from ..sets.ports import Range
from ..sets.selectors import iter_bits

if TYPE_CHECKING:
    from .compile import CompiledBundle, WorkloadClass, _Compiler

Entries = list[tuple[int, int]]  # (destination classes, atom mask)


@dataclass(frozen=True, slots=True)
class AdminGrant:
    """One admin rule: from `src` classes to `pieces` (destination classes, atoms), with its action."""

    ref: AdminRuleRef
    src: int
    pieces: tuple[tuple[int, int], ...]
    networks: tuple[IPBlock, ...] = ()  # egress to outside addresses (networks peers)
    external_ports: int = 0


@dataclass(slots=True)
class AdminTiers:
    """The compiled admin rules, each tier in evaluation order."""

    egress: list[AdminGrant] = field(default_factory=list)
    ingress: list[AdminGrant] = field(default_factory=list)
    baseline_egress: list[AdminGrant] = field(default_factory=list)
    baseline_ingress: list[AdminGrant] = field(default_factory=list)
    subjects: dict[str, int] = field(default_factory=dict)  # policy id -> classes selected


def admin_features(policies: tuple[AdminPolicy, ...]) -> tuple[set[str], set[str], bool]:
    """Pod label keys, port names and whether pod IPs matter (networks peers), for class building."""
    keys: set[str] = set()
    names: set[str] = set()
    uses_ips = False
    for p in policies:
        if p.subject.pods is not None:
            keys.update(r.key for r in p.subject.pods.requirements)
        for rule in (*p.ingress, *p.egress):
            for peer in rule.peers:
                if peer.pods is not None:
                    keys.update(r.key for r in peer.pods.requirements)
                uses_ips = uses_ips or bool(peer.networks)
            names.update(pp.name for pp in rule.ports or () if pp.name is not None)
    return keys, names, uses_ips


def admin_cuts(policies: tuple[AdminPolicy, ...], classes: list[WorkloadClass]) -> dict[Protocol, list[Range]]:
    """Port boundaries the admin rules draw (named ports at each class's number)."""
    cuts: dict[Protocol, list[Range]] = defaultdict(list)
    named: dict[str, set[tuple[Protocol, int]]] = defaultdict(set)
    for c in classes:
        for name, proto, port in c.named_ports:
            named[name].add((proto, port))
    for p in policies:
        for rule in (*p.ingress, *p.egress):
            for pp in rule.ports or ():
                if pp.name is not None:
                    for proto, n in named.get(pp.name, ()):
                        cuts[proto].append((n, n))
                elif pp.start is not None and pp.end is not None:
                    cuts[pp.protocol].append((pp.start, pp.end))
    return cuts


def compile_admin(compiler: _Compiler) -> AdminTiers:
    """Every admin rule as an AdminGrant, tiers in evaluation order."""
    policies = compiler.c.bundle.admin_policies
    tiers = AdminTiers()
    builder = _AdminBuilder(compiler)
    for policy in admin_order(policies):
        _add_policy(builder, policy, tiers.egress, tiers.ingress, tiers)
    baseline = baseline_of(policies)
    if baseline is not None:
        _add_policy(builder, baseline, tiers.baseline_egress, tiers.baseline_ingress, tiers)
    return tiers


def _add_policy(builder: _AdminBuilder, policy: AdminPolicy, egress: list[AdminGrant], ingress: list[AdminGrant],
                tiers: AdminTiers) -> None:
    subject = builder.subject(policy)
    tiers.subjects[policy.id] = subject
    for i, rule in enumerate(policy.egress):
        egress.append(builder.egress(rule_ref(policy, "egress", i), rule, subject))
    for i, rule in enumerate(policy.ingress):
        ingress.append(builder.ingress(rule_ref(policy, "ingress", i), rule, subject))


class _AdminBuilder:
    def __init__(self, compiler: _Compiler) -> None:
        self.k = compiler
        self.host = compiler.c.all_classes & ~compiler.selectable

    def subject(self, policy: AdminPolicy) -> int:
        # "Note that host-networked pods are not included in subject selection."
        s = policy.subject
        pods = self.k.pods.select(s.pods) if s.pods is not None else self.k.c.all_classes
        return self.k.namespaces(s.namespaces) & pods & self.k.selectable

    def egress(self, ref: AdminRuleRef, rule: AdminRule, subject: int) -> AdminGrant:
        dests = self.peers(rule.peers)
        blocks = tuple(IPBlock(cidr) for peer in rule.peers for cidr in peer.networks)
        external = self.port_parts(rule.ports, 0, external=True)[0][1] if blocks else 0
        return AdminGrant(ref, subject, tuple(self.port_parts(rule.ports, dests)), blocks, external)

    def ingress(self, ref: AdminRuleRef, rule: AdminRule, subject: int) -> AdminGrant:
        # Named ports resolve on the destination: the subject pods here.
        return AdminGrant(ref, self.peers(rule.peers), tuple(self.port_parts(rule.ports, subject)))

    def peers(self, peers: tuple[AdminPeer, ...]) -> int:
        mask = 0
        for peer in peers:
            mask |= self.peer(peer)
        return mask

    def peer(self, peer: AdminPeer) -> int:
        if peer.networks:
            return self._networks(peer.networks)
        if peer.nodes is not None:
            # Node labels are not in the bundle: an empty selector matches node traffic
            # (hostNetwork pods), a non-empty one none (as admin_explain does).
            return self.host if peer.nodes.is_empty else 0
        assert peer.namespaces is not None
        pods = self.k.pods.select(peer.pods) if peer.pods is not None else self.k.c.all_classes
        return self.k.namespaces(peer.namespaces) & pods & self.k.selectable

    def _networks(self, networks: tuple[str, ...]) -> int:
        mask = 0
        for cidr in networks:
            mask |= self.k.ip_block(IPBlock(cidr))
        return mask

    def port_parts(self, ports: tuple[AdminPort, ...] | None, classes: int,
                   external: bool = False) -> list[tuple[int, int]]:
        """(destination classes, atoms) pieces of an admin rule's ports; named ports per class."""
        atoms = self.k.c.atoms
        if ports is None:
            return [(classes, atoms.all)]
        const = 0
        parts: list[tuple[int, int]] = []
        for pp in ports:
            if pp.name is None:
                assert pp.start is not None and pp.end is not None
                const |= atoms.mask(pp.protocol, pp.start, pp.end)
            elif not external:
                for proto in PROTOCOLS:
                    for number, cls_mask in self.k.by_named.get((pp.name, proto), {}).items():
                        parts.append((classes & cls_mask, atoms.mask(proto, number, number)))
        return [(classes, const), *parts]


# --- evaluation -----------------------------------------------------------------------------


def apply_tier(grants: list[AdminGrant], s: int, rest: Entries, restrict: int, all_atoms: int) -> Entries:
    """Entries for source class `s` after a first-match tier, with `rest` where the tier does not decide.

    Allow rules admit their atoms; Deny rules block theirs; Pass rules block nothing but stop
    later rules of the tier (their atoms go to `rest`). Destinations outside `restrict` are
    left out of the tier's own entries.
    """
    applicable = [g for g in grants if g.src >> s & 1]
    if not applicable:
        return rest
    out: Entries = []
    for part in _parts(applicable, restrict):
        allow, block = _decide(applicable, part)
        if allow:
            out.append((part, allow))
        keep = all_atoms & ~block
        for dst, atoms in rest:
            if dst & part and atoms & keep:
                out.append((dst & part, atoms & keep))
    out += [(dst & ~restrict, atoms) for dst, atoms in rest if dst & ~restrict]
    return out


def _parts(grants: list[AdminGrant], restrict: int) -> list[int]:
    """Split `restrict` so that every piece's destinations hold each part wholly or not at all."""
    parts = [restrict] if restrict else []
    for g in grants:
        for dst, _ in g.pieces:
            if not dst:
                continue
            split: list[int] = []
            for p in parts:
                inside, outside = p & dst, p & ~dst
                split += [x for x in (inside, outside) if x]
            parts = split
    return parts


def _decide(grants: list[AdminGrant], part: int) -> tuple[int, int]:
    """(atoms allowed, atoms allowed or denied) for destinations `part`: first match wins."""
    decided = allow = block = 0
    for g in grants:
        matched = 0
        for dst, atoms in g.pieces:
            if dst & part:
                matched |= atoms
        matched &= ~decided
        if not matched:
            continue
        decided |= matched
        if g.ref.action != "Pass":
            block |= matched
            if g.ref.action == "Allow":
                allow |= matched
    return allow, block


def admin_entries(c: CompiledBundle, tiers: AdminTiers) -> tuple[list[Entries], list[Entries]]:
    """Egress and ingress entries per source class, admin tiers included."""
    everything = c.atoms.all
    np_egress: list[Entries] = [[] for _ in c.classes]
    np_ingress: list[Entries] = [[] for _ in c.classes]
    for gi in c.egress_grants:
        g = c.grants[gi]
        for s in iter_bits(g.src):
            np_egress[s].append((g.dst, g.ports))
    for gi in c.ingress_grants:
        g = c.grants[gi]
        for s in iter_bits(g.src):
            np_ingress[s].append((g.dst, g.ports))
    open_dst = c.all_classes & ~c.ingress_isolated
    egress, ingress = [], []
    for s in range(len(c.classes)):
        if c.egress_isolated >> s & 1:
            rest = np_egress[s]
        else:
            rest = apply_tier(tiers.baseline_egress, s, [(c.all_classes, everything)], c.all_classes, everything)
        egress.append(apply_tier(tiers.egress, s, rest, c.all_classes, everything))
        base = [(open_dst, everything)] if open_dst else []
        rest = np_ingress[s] + apply_tier(tiers.baseline_ingress, s, base, open_dst, everything)
        ingress.append(apply_tier(tiers.ingress, s, rest, c.all_classes, everything))
    return egress, ingress


def first_matches(grants: list[AdminGrant], s: int, d: int) -> list[tuple[int, AdminGrant]]:
    """(atoms, rule) of each rule of a tier that decides some atoms of pair (s, d), in order."""
    decided = 0
    out = []
    for g in grants:
        if not g.src >> s & 1:
            continue
        matched = 0
        for dst, atoms in g.pieces:
            if dst >> d & 1:
                matched |= atoms
        matched &= ~decided
        if matched:
            decided |= matched
            out.append((matched, g))
    return out


def side_provenance(anp: list[AdminGrant], baseline: list[AdminGrant], s: int, d: int, allowed: int,
                    np_rules: dict[int, tuple[str, ...]], isolated: bool) -> dict[int, tuple[str, ...]]:
    """For each allowed atom of (s, d), the rule that admits it on one side, admin tiers included."""
    anp_hits = [(m, g) for m, g in first_matches(anp, s, d) if g.ref.action != "Pass"]
    base_hits = [] if isolated else first_matches(baseline, s, d)
    out: dict[int, tuple[str, ...]] = {}
    for atom in iter_bits(allowed):
        bit = 1 << atom
        rule = next((g for m, g in anp_hits if m & bit), None)
        if rule is None and not isolated:
            rule = next((g for m, g in base_hits if m & bit), None)
        out[atom] = (str(rule.ref),) if rule is not None else np_rules[atom]
    return out
