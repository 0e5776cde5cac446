"""Compile a bundle into classes, port atoms and grants: the input of `connectivity.py`.

* A class is a set of workloads the policies cannot tell apart: same namespace, same
  values for every label key any pod selector mentions, same named ports that rules
  use, same pod IPs when ipBlocks exist, same hostNetwork flag. Real clusters run
  thousands of pods in a few hundred such classes.
* Port atoms split each protocol's 1..65535 at every boundary a rule mentions.
* A grant says: sources `src` may reach destinations `dst` on atoms `ports`, by one
  rule of one policy. Both sides are bit sets over classes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import compress, count
from operator import attrgetter, is_not, itemgetter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..gcpause import gc_paused
from ..model.bundle import Bundle, IPBlock, LabelSelector, NetworkPolicy, Peer, PolicyPort, Protocol, Rule, Workload
from ..sets.addresses import EVERYWHERE, block_contains_ip
from ..sets.ports import MAX_PORT, MIN_PORT, PortAtoms, Range
from ..sets.selectors import LabelIndex, iter_bits
from .explain import Direction, RuleRef

if TYPE_CHECKING:
    from .admin_compile import AdminTiers


@dataclass(frozen=True, slots=True)
class WorkloadClass:
    index: int
    namespace: str
    labels: dict[str, str]  # only the policy-relevant keys
    named_ports: tuple[tuple[str, Protocol, int], ...]
    pod_ips: tuple[str, ...]
    host_network: bool
    members: tuple[int, ...]  # indices into bundle.workloads


@dataclass(frozen=True, slots=True)
class Grant:
    """Sources `src` may send to destinations `dst` on `ports`, by `rule`."""

    rule: RuleRef
    src: int
    dst: int
    ports: int


@dataclass(frozen=True, slots=True)
class ExternalGrant:
    """Traffic between `src` classes and addresses outside the cluster, by `rule`.

    In `CompiledBundle.external` the classes send (egress to the blocks); in
    `external_ingress` they receive (ingress from the blocks).
    """

    rule: RuleRef
    src: int
    blocks: tuple[IPBlock, ...]
    ports: int


@dataclass(slots=True)
class CompiledBundle:
    bundle: Bundle
    classes: list[WorkloadClass]
    class_of: list[int]  # workload index -> class index
    atoms: PortAtoms
    all_classes: int
    ingress_isolated: int = 0
    egress_isolated: int = 0
    grants: list[Grant] = field(default_factory=list)  # ingress and egress alike
    ingress_grants: list[int] = field(default_factory=list)
    egress_grants: list[int] = field(default_factory=list)
    external: list[ExternalGrant] = field(default_factory=list)
    external_ingress: list[ExternalGrant] = field(default_factory=list)  # ports resolved per receiving class
    policy_targets: dict[str, int] = field(default_factory=dict)  # policy id -> classes selected
    workload_index: dict[str, int] = field(default_factory=dict)
    admin: AdminTiers | None = None  # AdminNetworkPolicy / baseline rules, when the bundle has any
    # What the classes were built from (`_relevant_features`), and per policy, in bundle order, what compiling
    # it added: (grants, external, external_ingress) as [start, end) ranges, then its targets. A later
    # compile of the same workloads with some policies changed copies the rest (`compile_bundle(base=)`).
    features: tuple[tuple[str, ...], frozenset[str], bool] | None = field(default=None, repr=False, compare=False)
    spans: list[tuple[int, int, int, int, int, int, int]] = field(default_factory=list, repr=False, compare=False)
    # The compiler's label indexes and selections (a compile from this one as a base, of the same classes, reuses them).
    lookups: _Lookups | None = field(default=None, repr=False, compare=False)
    # Per direction, the isolation mask `isolated` last read and its binary digits, lowest first.
    _flags: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False, compare=False)

    def class_of_workload(self, workload_id: str) -> int:
        """The class of the bundle's workload `workload_id` (KeyError for a workload it does not have)."""
        return self.class_of[self.workload_index[workload_id]]

    def isolated(self, cls: int, direction: Direction) -> bool:
        """Whether class `cls` is isolated for `direction`, in constant time.

        `mask >> cls & 1` copies the mask above bit `cls`: asked for every workload of a cluster with
        20,000 classes, that cost more than the rules asking. The digits are read again when the mask
        was replaced since.
        """
        mask = self.ingress_isolated if direction == "ingress" else self.egress_isolated
        flags = self._flags.get(direction)
        if flags is None or flags[0] is not mask:
            flags = self._flags[direction] = (mask, bin(mask)[:1:-1])
        return flags[1].startswith("1", cls)


def compile_bundle(bundle: Bundle, *, base: CompiledBundle | None = None) -> CompiledBundle:
    """Group workloads into classes and turn every policy rule into grants.

    Pure: reads only the bundle. Cost grows with distinct selectors and classes,
    not with pod pairs.

    `base` is the compiled form of a bundle with the very same workloads and namespaces and
    some policies changed or added (the fix rounds apply fixes to the bundle as given). When
    the policies mention the same label keys, named ports and ipBlock use, the classes are
    the same, so `base`'s are taken; when the port cuts also give the same atoms, every policy
    that is the same object at the same position gets `base`'s grants instead of being compiled
    again. The result equals `compile_bundle(bundle)`.
    """
    with gc_paused():
        if base is not None and not (base.features is not None and not bundle.admin_policies
                                     and not base.bundle.admin_policies and base.bundle.workloads is bundle.workloads
                                     and base.bundle.namespaces is bundle.namespaces):
            base = None
        changes = _Changes.between(base.bundle.policies, bundle.policies) if base is not None else None
        if (base is not None and base.features is not None and changes is not None
                and changes.keep(base.features, bundle.policies)):
            return _compile_like(bundle, base, base.features, changes)
        keys, names, uses_ips = _relevant_features(bundle.policies)
        features = (tuple(keys), frozenset(names), uses_ips)
        if base is not None and base.features == features:
            return _compile_like(bundle, base, features, changes)
        if bundle.admin_policies:
            # Imported here: bundles without admin policies never load the admin engine.
            from .admin_compile import admin_cuts, admin_features, compile_admin

            admin_keys, admin_names, admin_ips = admin_features(bundle.admin_policies)
            keys, uses_ips = sorted({*keys, *admin_keys}), uses_ips or admin_ips
            names |= admin_names
        classes, class_of = _build_classes(bundle.workloads, keys, names, uses_ips)
        cuts = _port_cuts(bundle.policies, classes)
        if bundle.admin_policies:
            for proto, ranges in admin_cuts(bundle.admin_policies, classes).items():
                cuts[proto].extend(ranges)
        compiled = CompiledBundle(bundle, classes, class_of, PortAtoms(cuts), (1 << len(classes)) - 1)
        compiled.workload_index = {w.id: i for i, w in enumerate(bundle.workloads)}
        compiled.features = features
        compiler = _Compiler(compiled)
        compiler.run()
        if bundle.admin_policies:
            compiled.admin = compile_admin(compiler)
    return compiled


Features = tuple[tuple[str, ...], frozenset[str], bool]
_ID = attrgetter("id")
_TARGETS = itemgetter(6)


@dataclass(frozen=True, slots=True)
class _Changes:
    """How a bundle's policies differ from a base bundle's, position by position.

    What the policies mention (label keys, named ports, ipBlock use, port boundaries) is a union over
    them. The policies that are the same object at the same position are the same in both; of the
    others, `fresh` and `gone` are the bundle's and the base's whose rules differ (or that have no
    counterpart), and `fresh_selectors` and `gone_selectors` the podSelectors of those whose rules are
    the very same tuples (a fix of a podSelector: `fixes._patched`), whose rules mention the same on
    both sides. The new union is that of the common part and the fresh side, the old one that of the
    common part and the gone side. When the fresh side mentions nothing the old union lacks and the gone
    side nothing the fresh side does not, the two are equal, told from the changed policies alone (a fix
    round changes a few of many).
    """

    fresh: tuple[NetworkPolicy, ...]
    gone: tuple[NetworkPolicy, ...]
    fresh_selectors: tuple[LabelSelector, ...] = ()
    gone_selectors: tuple[LabelSelector, ...] = ()

    @staticmethod
    def between(old: Iterable[NetworkPolicy], new: Iterable[NetworkPolicy]) -> _Changes:
        old, new = tuple(old), tuple(new)
        fresh, gone = list(new[len(old):]), list(old[len(new):])
        fresh_selectors, gone_selectors = [], []
        for i in moved_positions(old, new):
            a, b = old[i], new[i]
            if a.ingress is b.ingress and a.egress is b.egress:
                fresh_selectors.append(b.pod_selector)
                gone_selectors.append(a.pod_selector)
            else:
                fresh.append(b)
                gone.append(a)
        return _Changes(tuple(fresh), tuple(gone), tuple(fresh_selectors), tuple(gone_selectors))

    def keep(self, features: Features, policies: tuple[NetworkPolicy, ...]) -> bool:
        """Whether the features of the bundle, whose policies are `policies`, are evidently `features`, the
        base's (False: compute them). What only the gone side mentions is looked for in `policies`."""
        keys, names, ips = features
        fresh_keys, fresh_names, fresh_ips = _relevant_features(self.fresh)
        gone_keys, gone_names, gone_ips = _relevant_features(self.gone)
        fresh_all, gone_all = _keys(fresh_keys, self.fresh_selectors), _keys(gone_keys, self.gone_selectors)
        return (fresh_all <= set(keys) and fresh_names <= names and (ips or not fresh_ips)
                and _mentioned(policies, gone_all - fresh_all, gone_names - fresh_names, gone_ips and not fresh_ips))

    def atoms(self, base: PortAtoms, classes: list[WorkloadClass]) -> PortAtoms | None:
        """`base` when the bundle's port cuts evidently give its atoms (None: compute them).

        Port cuts come from rules only: the policies whose rules are the same tuples on both sides add none.
        """
        if not self.fresh and not self.gone:
            return base
        ends = {MIN_PORT, MAX_PORT + 1}
        had: dict[Protocol, set[int]] = defaultdict(lambda: set(ends))
        for proto, lo, hi in base.atoms:
            had[proto].update((lo, hi + 1))
        fresh, gone = _bounds(_port_cuts(self.fresh, classes)), _bounds(_port_cuts(self.gone, classes))
        same = all(fresh.get(proto, set()) <= had[proto] and gone.get(proto, set()) <= fresh.get(proto, set()) | ends
                   for proto in {*fresh, *gone})
        return base if same else None


def moved_positions(old: Sequence[NetworkPolicy], new: Sequence[NetworkPolicy]) -> list[int]:
    """The positions, within both, where `old` and `new` do not hold the same object (compared in C: a bundle
    has thousands of policies and a fix round changes a few)."""
    return list(compress(count(), map(is_not, old, new)))


def _mentioned(policies: tuple[NetworkPolicy, ...], keys: set[str], names: set[str], ips: bool) -> bool:
    """Whether `policies` mention every label key in `keys`, every named port in `names` and, when `ips`, an
    ipBlock. Read a slice at a time until all are seen: the keys a fix no longer mentions are often common."""
    step = 512
    for at in range(0, len(policies), step):
        if not (keys or names or ips):
            break
        seen_keys, seen_names, seen_ips = _relevant_features(policies[at:at + step])
        keys, names, ips = keys.difference(seen_keys), names - seen_names, ips and not seen_ips
    return not (keys or names or ips)


def _keys(keys: Iterable[str], selectors: Iterable[LabelSelector]) -> set[str]:
    """`keys` and the label keys the selectors mention."""
    return {*keys, *(r.key for s in selectors for r in s.requirements)}


def _bounds(cuts: dict[Protocol, list[Range]]) -> dict[Protocol, set[int]]:
    """The atom boundaries each protocol's cuts make (as `PortAtoms` takes them)."""
    return {proto: {b for lo, hi in ranges for b in (lo, hi + 1) if MIN_PORT <= b <= MAX_PORT + 1}
            for proto, ranges in cuts.items()}


def _compile_like(bundle: Bundle, base: CompiledBundle, features: Features, changes: _Changes | None,
                  ) -> CompiledBundle:
    """`compile_bundle(bundle)` from `base`'s classes (same features) and, with the same atoms, its grants."""
    classes = list(base.classes)
    atoms = changes.atoms(base.atoms, classes) if changes is not None else None
    if atoms is None:
        atoms = PortAtoms(_port_cuts(bundle.policies, classes))
    compiled = CompiledBundle(bundle, classes, list(base.class_of), atoms, base.all_classes)
    compiled.workload_index = dict(base.workload_index)
    compiled.features = features
    _Compiler(compiled, base.lookups).run(base if atoms is base.atoms or atoms.atoms == base.atoms.atoms else None)
    return compiled


def _relevant_features(policies: Iterable[NetworkPolicy]) -> tuple[list[str], set[str], bool]:
    keys: set[str] = set()
    names: set[str] = set()
    uses_ips = False
    for p in policies:
        keys.update(r.key for r in p.pod_selector.requirements)
        for rule in (*p.ingress, *p.egress):
            for peer in rule.peers or ():
                if peer.pod_selector is not None:
                    keys.update(r.key for r in peer.pod_selector.requirements)
                uses_ips = uses_ips or peer.ip_block is not None
            names.update(pp.port for pp in rule.ports or () if isinstance(pp.port, str))
    return sorted(keys), names, uses_ips


def _build_classes(
    workloads: tuple[Workload, ...], keys: list[str], names: set[str], uses_ips: bool
) -> tuple[list[WorkloadClass], list[int]]:
    ClassKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, Protocol, int], ...], tuple[str, ...], bool]
    groups: dict[ClassKey, list[int]] = {}
    relevant = set(keys)
    for i, w in enumerate(workloads):
        labels = tuple(sorted((k, v) for k, v in w.labels.items() if k in relevant))
        named = tuple(sorted((cp.name, cp.protocol, cp.port) for cp in w.ports if cp.name in names))
        ips = tuple(sorted(w.pod_ips)) if uses_ips else ()
        groups.setdefault((w.namespace, labels, named, ips, w.host_network), []).append(i)
    classes: list[WorkloadClass] = []
    class_of = [0] * len(workloads)
    for idx, ((ns, labels, named, ips, host), members) in enumerate(groups.items()):
        classes.append(WorkloadClass(idx, ns, dict(labels), named, ips, host, tuple(members)))
        for m in members:
            class_of[m] = idx
    return classes, class_of


def _port_cuts(policies: Iterable[NetworkPolicy], classes: list[WorkloadClass]) -> dict[Protocol, list[Range]]:
    cuts: dict[Protocol, list[Range]] = defaultdict(list)
    named: dict[tuple[str, Protocol], set[int]] = defaultdict(set)
    for c in classes:
        for name, proto, port in c.named_ports:
            named[(name, proto)].add(port)
    for p in policies:
        for rule in (*p.ingress, *p.egress):
            for pp in rule.ports or ():
                if isinstance(pp.port, int):
                    cuts[pp.protocol].append((pp.port, pp.end_port or pp.port))
                elif isinstance(pp.port, str):
                    cuts[pp.protocol].extend((n, n) for n in named.get((pp.port, pp.protocol), ()))
    return cuts


class _Lookups:
    """What selecting classes reads: the namespaces' and classes' label indexes, and the selections made.

    A function of the classes and the namespaces alone, so a compile from a base with the same ones
    takes the base's, with every selection it already made (`_compile_like`).
    """

    def __init__(self, c: CompiledBundle) -> None:
        ns_names = sorted(c.bundle.namespaces)
        self.ns_index = LabelIndex([c.bundle.namespaces[n].labels for n in ns_names])
        self.ns_names = ns_names
        self.ns_classes: dict[str, int] = defaultdict(int)
        self.selectable = 0  # hostNetwork pods are never selected by policy
        self.by_named: dict[tuple[str, Protocol], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for cls in c.classes:
            bit = 1 << cls.index
            self.ns_classes[cls.namespace] |= bit
            if not cls.host_network:
                self.selectable |= bit
            for name, proto, port in cls.named_ports:
                self.by_named[(name, proto)][port] |= bit
        self.pods = LabelIndex([cls.labels for cls in c.classes])
        self.ns_sel_cache: dict[LabelSelector, int] = {}
        self.block_cache: dict[IPBlock, int] = {}


class _Compiler:
    """Evaluates each distinct selector once and emits grants per rule."""

    def __init__(self, c: CompiledBundle, lookups: _Lookups | None = None) -> None:
        self.c = c
        look = c.lookups = lookups or _Lookups(c)
        self.ns_index, self.ns_names, self.ns_classes = look.ns_index, look.ns_names, look.ns_classes
        self.selectable, self.by_named, self.pods = look.selectable, look.by_named, look.pods
        self._ns_sel_cache, self._block_cache = look.ns_sel_cache, look.block_cache

    def run(self, base: CompiledBundle | None = None) -> None:
        """Compile every policy in order; with `base` (same classes and atoms), copy what it compiled for each
        policy that is the same object at the same position."""
        policies = self.c.bundle.policies
        if base is None:
            self._compile(policies)
            return
        same = base.bundle.policies
        moved, start = moved_positions(same, policies), 0
        for n in moved:
            if n > start:
                self._copy_run(base, start, n)
            self._compile(policies[n:n + 1])
            start = n + 1
        common = min(len(same), len(policies))
        if common > start:
            self._copy_run(base, start, common)
        self._compile(policies[common:])
        self._isolation_beside(base, [*moved, *range(common, len(same))])

    def _compile(self, policies: Iterable[NetworkPolicy]) -> None:
        """Compile each policy, recording the span of what it added."""
        c = self.c
        for policy in policies:
            start = (len(c.grants), len(c.external), len(c.external_ingress))
            targets = self._policy(policy)
            c.spans.append((start[0], len(c.grants), start[1], len(c.external), start[2], len(c.external_ingress),
                            targets))

    def _isolation_beside(self, base: CompiledBundle, gone: list[int]) -> None:
        """Add to the isolation masks, which hold the compiled policies' alone, the copied policies' own.

        `base`'s masks are the union over the copied policies and the `gone` ones (its positions not
        copied). When what the gone ones isolated is isolated by the compiled ones too (a fix of a
        podSelector that selected nothing), the union with `base`'s is the answer; else the copied
        policies are read one by one.
        """
        c, before = self.c, base.bundle.policies
        gone_ingress = gone_egress = 0
        for i in gone:
            targets = base.spans[i][6]
            if targets:
                gone_ingress |= targets if before[i].affects_ingress else 0
                gone_egress |= targets if before[i].affects_egress else 0
        if not gone_ingress & ~c.ingress_isolated and not gone_egress & ~c.egress_isolated:
            c.ingress_isolated |= base.ingress_isolated
            c.egress_isolated |= base.egress_isolated
            return
        self._copied_isolation(set(gone), len(before))

    def _copied_isolation(self, gone: set[int], base_size: int) -> None:
        """Add what each copied policy (a position of `base`'s not `gone`) isolates, one by one."""
        c = self.c
        for i, (policy, span) in enumerate(zip(c.bundle.policies, c.spans)):
            if i < base_size and i not in gone and span[6]:
                c.ingress_isolated |= span[6] if policy.affects_ingress else 0
                c.egress_isolated |= span[6] if policy.affects_egress else 0

    def _policy(self, policy: NetworkPolicy) -> int:
        targets = self.ns_classes.get(policy.namespace, 0) & self.pods.select(policy.pod_selector) & self.selectable
        self.c.policy_targets[policy.id] = targets
        if policy.affects_ingress:
            self.c.ingress_isolated |= targets
            for i, rule in enumerate(policy.ingress):
                self._ingress_rule(policy, i, rule, targets)
        if policy.affects_egress:
            self.c.egress_isolated |= targets
            for i, rule in enumerate(policy.egress):
                self._egress_rule(policy, i, rule, targets)
        return targets

    def _copy_run(self, base: CompiledBundle, start: int, end: int) -> None:
        """What compiling policies `start`..`end` (the same objects at the same positions in `base`'s bundle)
        added to `base`, added here: their grants and external grants are one slice each of `base`'s."""
        c = self.c
        g0, e0, i0 = base.spans[start][0], base.spans[start][2], base.spans[start][4]
        g1, e1, i1 = base.spans[end - 1][1], base.spans[end - 1][3], base.spans[end - 1][5]
        dg, de, di = len(c.grants) - g0, len(c.external) - e0, len(c.external_ingress) - i0
        c.grants.extend(base.grants[g0:g1])  # each passed `_add`'s test when `base` was compiled
        for mine, theirs in ((c.ingress_grants, base.ingress_grants), (c.egress_grants, base.egress_grants)):
            run = theirs[bisect_left(theirs, g0):bisect_left(theirs, g1)]
            mine.extend(map(dg.__add__, run) if dg else run)
        c.external.extend(base.external[e0:e1])
        c.external_ingress.extend(base.external_ingress[i0:i1])
        spans = base.spans[start:end]
        # their targets as `base` found them (the isolation masks: `_isolation_beside`)
        c.policy_targets.update(zip(map(_ID, c.bundle.policies[start:end]), map(_TARGETS, spans)))
        if dg or de or di:  # every offset moved by as much as the policies before compiled otherwise
            spans = [(s[0] + dg, s[1] + dg, s[2] + de, s[3] + de, s[4] + di, s[5] + di, s[6]) for s in spans]
        c.spans.extend(spans)

    def _ingress_rule(self, policy: NetworkPolicy, i: int, rule: Rule, targets: int) -> None:
        ref = RuleRef(policy.id, "ingress", i)
        sources, blocks = self.peers(policy, rule.peers)
        # Named ports resolve on the destination: the selected pods here.
        for dst, ports in self.port_parts(rule.ports, targets):
            self._add(Grant(ref, sources, dst, ports), "ingress")
            # Outside sources: an empty `from` ("matches all sources") or ipBlock peers.
            if blocks and dst and ports:
                self.c.external_ingress.append(ExternalGrant(ref, dst, blocks, ports))

    def _egress_rule(self, policy: NetworkPolicy, i: int, rule: Rule, targets: int) -> None:
        ref = RuleRef(policy.id, "egress", i)
        dests, blocks = self.peers(policy, rule.peers)
        for dst, ports in self.port_parts(rule.ports, dests):
            self._add(Grant(ref, targets, dst, ports), "egress")
        external_ports = self.port_parts(rule.ports, 0, external=True)[0][1]
        if blocks and external_ports and targets:
            self.c.external.append(ExternalGrant(ref, targets, blocks, external_ports))

    def _add(self, grant: Grant, direction: Direction) -> None:
        if not (grant.src and grant.dst and grant.ports):
            return
        self.c.grants.append(grant)
        (self.c.ingress_grants if direction == "ingress" else self.c.egress_grants).append(len(self.c.grants) - 1)

    def peers(self, policy: NetworkPolicy, peers: tuple[Peer, ...] | None) -> tuple[int, tuple[IPBlock, ...]]:
        """Classes a `from`/`to` list matches, and the external blocks it admits."""
        # API reference: "If this field is empty or missing, this rule matches all
        # sources" (resp. destinations) — pods, hostNetwork pods and outside addresses.
        if peers is None:
            return self.c.all_classes, EVERYWHERE
        mask = 0
        blocks: list[IPBlock] = []
        for peer in peers:
            if peer.ip_block is not None:
                mask |= self.ip_block(peer.ip_block)
                blocks.append(peer.ip_block)
            else:
                mask |= self.selector_peer(policy, peer)
        return mask, tuple(blocks)

    def selector_peer(self, policy: NetworkPolicy, peer: Peer) -> int:
        if peer.namespace_selector is None:
            ns_mask = self.ns_classes.get(policy.namespace, 0)
        else:
            ns_mask = self.namespaces(peer.namespace_selector)
        pod_mask = self.pods.select(peer.pod_selector) if peer.pod_selector is not None else self.c.all_classes
        return ns_mask & pod_mask & self.selectable

    def namespaces(self, selector: LabelSelector) -> int:
        hit = self._ns_sel_cache.get(selector)
        if hit is None:
            hit = 0
            for n in iter_bits(self.ns_index.select(selector)):
                hit |= self.ns_classes.get(self.ns_names[n], 0)
            self._ns_sel_cache[selector] = hit
        return hit

    def ip_block(self, block: IPBlock) -> int:
        # ipBlock is matched against pod IPs where a pod has status.podIP.
        hit = self._block_cache.get(block)
        if hit is None:
            hit = 0
            for cls in self.c.classes:
                if any(block_contains_ip(block, ip) for ip in cls.pod_ips):
                    hit |= 1 << cls.index
            self._block_cache[block] = hit
        return hit

    def port_parts(self, ports: tuple[PolicyPort, ...] | None, classes: int,
                   external: bool = False) -> list[tuple[int, int]]:
        """(destination classes, atom mask) pieces of a rule's ports.

        Numeric ports apply to every destination; a named port applies, per destination
        class, as the number that class's container port of that name and protocol has.
        Outside addresses have no named ports.
        """
        atoms = self.c.atoms
        if ports is None:
            return [(classes, atoms.all)]
        const = 0
        parts: list[tuple[int, int]] = []
        for pp in ports:
            if pp.port is None:
                const |= atoms.protocol_masks[pp.protocol]
            elif isinstance(pp.port, int):
                const |= atoms.mask(pp.protocol, pp.port, pp.end_port or pp.port)
            elif not external:
                for number, cls_mask in self.by_named.get((pp.port, pp.protocol), {}).items():
                    parts.append((classes & cls_mask, atoms.mask(pp.protocol, number, number)))
        return [(classes, const), *parts]


__all__ = ["MAX_PORT", "MIN_PORT", "CompiledBundle", "ExternalGrant", "Grant", "WorkloadClass", "compile_bundle",
           "moved_positions"]
