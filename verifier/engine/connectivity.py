"""All-pairs connectivity from compiled grants, as bit sets over classes.

For a source class s:
  egress(s)  = [(dst classes, ports)]: everything if s is not isolated for egress,
               else the egress grants whose sources include s;
  ingress(s) = [(dst classes, ports)]: the ingress grants whose sources include s,
               plus every destination not isolated for ingress on every port.
A destination d is reachable on the ports that both sides grant:
  ports(s, d) = OR{e.ports : d in e.dst} & OR{i.ports : d in i.dst}.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ..gcpause import gc_paused
from ..model.bundle import IPBlock, Protocol
from ..model.errors import UnknownWorkload
from ..sets.addresses import EVERYWHERE
from ..sets.ports import PortSet
from ..sets.selectors import iter_bits
from .compile import CompiledBundle, ExternalGrant, Grant

Entries = list[tuple[int, int]]  # (destination classes, atom mask)


@dataclass(frozen=True, slots=True)
class ExternalEgress:
    """Traffic a workload may have with addresses outside the cluster: egress to the blocks
    (`Connectivity.external_egress`) or ingress from them (`Connectivity.external_ingress`)."""

    blocks: tuple[IPBlock, ...]
    ports: PortSet
    rule: str  # "unrestricted" or the rule that grants it


class Connectivity:
    """The computed connectivity of a bundle; answers pair and port questions."""

    def __init__(self, compiled: CompiledBundle, *, lazy: bool = False) -> None:
        self.compiled = compiled
        self._external_of: dict[int, list[ExternalGrant]] | None = None
        self._external_ingress_of: dict[int, list[ExternalGrant]] | None = None
        self._toward: dict[int, tuple[list[Grant], list[Grant]]] = {}  # `sources_to`'s grants per class
        if not lazy:
            self._entries()

    # Each class's entries, computed by `__init__` (or on first use, for `lazy=True`: a fix round asks
    # `sources_to` alone when the bundle has no dependencies).
    @cached_property
    def egress(self) -> list[Entries]:
        return self._entries()[0]

    @cached_property
    def ingress(self) -> list[Entries]:
        return self._entries()[1]

    @cached_property
    def reachable(self) -> list[int]:
        return self._entries()[2]

    def _entries(self) -> tuple[list[Entries], list[Entries], list[int]]:
        """Compute `egress`, `ingress` and `reachable` (each source class's), and set all three."""
        compiled = self.compiled
        with gc_paused():
            if compiled.admin is None:
                egress, ingress = _egress_entries(compiled), _ingress_entries(compiled)
            else:
                from .admin_compile import admin_entries

                raw_egress, raw_ingress = admin_entries(compiled, compiled.admin)
                egress, ingress = [_merge(e) for e in raw_egress], [_merge(i) for i in raw_ingress]
            reachable = [_reachable(e, i) for e, i in zip(egress, ingress)]
        self.__dict__.update(egress=egress, ingress=ingress, reachable=reachable)
        return egress, ingress, reachable

    # --- pairs -------------------------------------------------------------
    def class_ports(self, s: int, d: int) -> int:
        """Atom mask of what class s may open to class d."""
        bit = 1 << d
        out = 0
        for dst, ports in self.egress[s]:
            if dst & bit:
                out |= ports
        if not out:
            return 0
        into = 0
        for dst, ports in self.ingress[s]:
            if dst & bit:
                into |= ports
        return out & into

    def allowed_ports(self, src: str, dst: str) -> PortSet:
        """Every (protocol, port) `src` may open to `dst`.

        Raises:
            UnknownWorkload: either id names no workload.
        """
        s, d = self._class(src), self._class(dst)
        return self.compiled.atoms.to_portset(self.class_ports(s, d))

    def is_allowed(self, src: str, dst: str, port: int, protocol: Protocol = "TCP") -> bool:
        s, d = self._class(src), self._class(dst)
        atom = self.compiled.atoms.atom_of(protocol, port)
        return bool(self.class_ports(s, d) >> atom & 1)

    def sources_to(self, dst: str, port: int, protocol: Protocol = "TCP") -> int:
        """The source classes that may open `port` to workload `dst`, as a mask: `is_allowed` from every source.

        Without admin policies, read from the grants that reach `dst`'s class (gathered once per class),
        not from every source's entries: an egress grant or a source not isolated for egress opens that
        side, an ingress grant or a destination not isolated for ingress the other, as in `class_ports`.

        Raises:
            UnknownWorkload: `dst` names no workload.
        """
        c, d = self.compiled, self._class(dst)
        atom = c.atoms.atom_of(protocol, port)
        if c.admin is not None:
            return sum(1 << s for s in range(len(c.classes)) if self.class_ports(s, d) >> atom & 1)
        egress_grants, ingress_grants = self._grants_toward(d)
        egress = c.all_classes & ~c.egress_isolated
        for g in egress_grants:
            if g.ports >> atom & 1:
                egress |= g.src
        if not c.ingress_isolated >> d & 1:
            return egress
        ingress = 0
        for g in ingress_grants:
            if g.ports >> atom & 1:
                ingress |= g.src
        return egress & ingress

    def _grants_toward(self, d: int) -> tuple[list[Grant], list[Grant]]:
        """The egress and the ingress grants whose destinations include class `d`."""
        found = self._toward.get(d)
        if found is None:
            c, bit = self.compiled, 1 << d  # `& bit` is as long as `bit`; `>> d` would copy the mask above d
            found = self._toward[d] = ([g for g in map(c.grants.__getitem__, c.egress_grants) if g.dst & bit],
                                       [g for g in map(c.grants.__getitem__, c.ingress_grants) if g.dst & bit])
        return found

    def class_pairs(self) -> Iterator[tuple[int, int, int]]:
        """(source class, destination class, atom mask) for every pair with a port open."""
        for s, reach in enumerate(self.reachable):
            for d in iter_bits(reach):
                mask = self.class_ports(s, d)
                if mask:
                    yield s, d, mask

    def flows(self) -> Iterator[tuple[str, str, PortSet]]:
        """(source id, destination id, ports) for every ordered workload pair with a port open."""
        workloads = self.compiled.bundle.workloads
        classes = self.compiled.classes
        to_portset = self.compiled.atoms.to_portset
        for s, d, mask in self.class_pairs():
            ports = to_portset(mask)
            for ws in classes[s].members:
                for wd in classes[d].members:
                    yield workloads[ws].id, workloads[wd].id, ports

    def provenance(self, src: str, dst: str) -> list[tuple[PortSet, tuple[str, ...], tuple[str, ...]]]:
        """Why each allowed port range of a pair is allowed: (ports, egress rules, ingress rules).

        A side that is not isolated reads `unrestricted`. Ranges admitted by the same rules
        on both sides are merged.
        """
        c = self.compiled
        s, d = self._class(src), self._class(dst)
        allowed = self.class_ports(s, d)
        e_isolated, i_isolated = bool(c.egress_isolated >> s & 1), bool(c.ingress_isolated >> d & 1)
        egress = _side_rules(c, c.egress_grants, s, d, allowed, isolated=e_isolated)
        ingress = _side_rules(c, c.ingress_grants, s, d, allowed, isolated=i_isolated)
        if c.admin is not None:
            from .admin_compile import side_provenance

            egress = side_provenance(c.admin.egress, c.admin.baseline_egress, s, d, allowed, egress, e_isolated)
            ingress = side_provenance(c.admin.ingress, c.admin.baseline_ingress, s, d, allowed, ingress, i_isolated)
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = defaultdict(int)
        for atom in iter_bits(allowed):
            groups[(egress[atom], ingress[atom])] |= 1 << atom
        return [(c.atoms.to_portset(mask), e, i) for (e, i), mask in groups.items()]

    # --- outside the cluster -------------------------------------------------
    def external_egress(self, src: str) -> list[ExternalEgress]:
        """Egress of a workload to outside addresses, rule by rule."""
        s = self._class(src)
        c = self.compiled
        isolated = bool(c.egress_isolated >> s & 1)
        if not isolated:
            rows = [ExternalEgress(EVERYWHERE, PortSet.all_ports(), "unrestricted")]
        else:
            if self._external_of is None:
                self._external_of = _by_class(c.external)
            grants = self._external_of.get(s, [])
            rows = [ExternalEgress(g.blocks, c.atoms.to_portset(g.ports), str(g.rule)) for g in grants]
        if c.admin is None:
            return rows
        from .admin_external import admin_external

        return admin_external(c.admin, c.atoms, s, isolated, rows, ExternalEgress)

    def external_ingress(self, dst: str) -> list[ExternalEgress]:
        """Ingress a workload accepts from outside addresses, rule by rule.

        A pod no policy isolates for ingress accepts every source on every port. An isolated
        pod accepts outside sources through rules whose `from` is empty ("If this field is
        empty or missing, this rule matches all sources") or names ipBlocks, on the rule's
        ports (named ports resolved on the pod). AdminNetworkPolicy ingress peers are
        namespaces and pods only, so admin tiers do not change this.
        """
        d = self._class(dst)
        c = self.compiled
        if not c.ingress_isolated >> d & 1:
            return [ExternalEgress(EVERYWHERE, PortSet.all_ports(), "unrestricted")]
        if self._external_ingress_of is None:
            self._external_ingress_of = _by_class(c.external_ingress)
        merged: dict[tuple[str, tuple[IPBlock, ...]], int] = defaultdict(int)
        for g in self._external_ingress_of.get(d, ()):
            merged[(str(g.rule), g.blocks)] |= g.ports
        return [ExternalEgress(blocks, c.atoms.to_portset(mask), rule) for (rule, blocks), mask in merged.items()]

    # --- counts ------------------------------------------------------------
    def summary(self) -> dict[str, int]:
        """Counts for clusters too large to list pair by pair (weighted by workloads)."""
        c = self.compiled
        sizes = [len(cls.members) for cls in c.classes]
        weight_masks: dict[int, int] = defaultdict(int)
        for i, n in enumerate(sizes):
            weight_masks[n] |= 1 << i
        pairs = 0
        for s, reach in enumerate(self.reachable):
            if reach:
                pairs += sizes[s] * sum(n * (reach & m).bit_count() for n, m in weight_masks.items())
        return {
            "workloads": len(c.bundle.workloads),
            "pods": sum(w.replicas for w in c.bundle.workloads),
            "namespaces": len(c.bundle.namespaces),
            "classes": len(c.classes),
            "policies": len(c.bundle.policies),
            "port_atoms": len(c.atoms.atoms),
            "grants": len(c.grants),
            "ingress_isolated_workloads": _members(c, c.ingress_isolated),
            "egress_isolated_workloads": _members(c, c.egress_isolated),
            "allowed_pairs": pairs,
            "total_pairs": len(c.bundle.workloads) ** 2,
        }

    def _class(self, ref: str) -> int:
        i = self.compiled.workload_index.get(ref)
        if i is None:
            raise UnknownWorkload(f"no workload named {ref!r} in the bundle")
        return self.compiled.class_of[i]


def compute_connectivity(compiled: CompiledBundle, *, lazy: bool = False) -> Connectivity:
    """Connectivity of every class pair; pure, and linear in grants plus classes.

    `lazy=True` computes each class's entries on their first use (`Connectivity.egress`).
    """
    return Connectivity(compiled, lazy=lazy)


def _members(c: CompiledBundle, mask: int) -> int:
    return sum(len(c.classes[i].members) for i in iter_bits(mask))


def _merge(entries: Entries) -> Entries:
    """Join entries with the same ports, so each source carries few, wide entries."""
    by_ports: dict[int, int] = defaultdict(int)
    for dst, ports in entries:
        by_ports[ports] |= dst
    return [(dst, ports) for ports, dst in by_ports.items()]


def _egress_entries(c: CompiledBundle) -> list[Entries]:
    everything = [(c.all_classes, c.atoms.all)]
    per_class: list[Entries] = [[] for _ in c.classes]
    for gi in c.egress_grants:
        g = c.grants[gi]
        for s in iter_bits(g.src):
            per_class[s].append((g.dst, g.ports))
    return [_merge(per_class[s]) if c.egress_isolated >> s & 1 else everything for s in range(len(c.classes))]


def _ingress_entries(c: CompiledBundle) -> list[Entries]:
    # Transpose: group ingress grants by their source set, then hand each group's
    # (destinations, ports) to every source in it — once per distinct source set.
    by_src: dict[int, Entries] = defaultdict(list)
    for gi in c.ingress_grants:
        g = c.grants[gi]
        by_src[g.src].append((g.dst, g.ports))
    open_dst = c.all_classes & ~c.ingress_isolated
    per_class: list[Entries] = [[(open_dst, c.atoms.all)] if open_dst else [] for _ in c.classes]
    for src, entries in by_src.items():
        merged = _merge(entries)
        for s in iter_bits(src):
            per_class[s].extend(merged)
    return [_merge(e) for e in per_class]


def _side_rules(c: CompiledBundle, grants: list[int], s: int, d: int, allowed: int,
                isolated: bool) -> dict[int, tuple[str, ...]]:
    """For each allowed atom of pair (s, d), the rules of one side that admit it."""
    if not isolated:
        return defaultdict(lambda: ("unrestricted",))
    rules: dict[int, list[str]] = defaultdict(list)
    for gi in grants:
        g = c.grants[gi]
        if g.src >> s & 1 and g.dst >> d & 1 and g.ports & allowed:
            for atom in iter_bits(g.ports & allowed):
                if str(g.rule) not in rules[atom]:
                    rules[atom].append(str(g.rule))
    return defaultdict(tuple, {a: tuple(r) for a, r in rules.items()})


def _reachable(egress: Entries, ingress: Entries) -> int:
    """Destination classes with at least one port open both ways."""
    out = 0
    for e_dst, e_ports in egress:
        for i_dst, i_ports in ingress:
            if e_ports & i_ports:
                out |= e_dst & i_dst
    return out


def _by_class(grants: list[ExternalGrant]) -> dict[int, list[ExternalGrant]]:
    """The grants of each class, in grant order: one pass, not a scan of every grant per workload asked."""
    out: dict[int, list[ExternalGrant]] = defaultdict(list)
    for g in grants:
        for cls in iter_bits(g.src):
            out[cls].append(g)
    return dict(out)
