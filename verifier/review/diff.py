"""What changes between two versions of a bundle: flows, external egress, dependencies, findings.

This is what review tooling asks on a pull request: which connections does the change open
or close (between workloads, and to addresses outside the cluster), which needed dependency
does it break, which findings does it introduce or resolve.
External egress is compared in a normal form (`external_cover`): per protocol and port
range, the set of outside addresses covered. So reordering rules, splitting a block in two
or rewriting `cidr` + `except` differently changes nothing, and a narrower except shows
exactly the addresses it opens.
Findings are matched by `Finding.key()` (rule, object, details["key"]), so a finding that only
moved lines or changed wording is neither introduced nor resolved. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.compile import compile_bundle
from ..engine.connectivity import Connectivity, compute_connectivity
from ..model.bundle import PROTOCOLS, Bundle, Protocol
from ..model.records import Dependency, Finding
from ..sets.addresses import AddressSet, block_addresses, network, subtract, to_cidrs, union
from ..sets.ports import PortSet, Range, normalize
from .findings import finding_json, lint
from .rules.context import DependencyResultLike
from .rules.deps import dependency_json

DIFF_SCHEMA = "netreason.diff/v1"

#: Flow changes of each kind a diff lists; beyond it the diff says how many more there are.
MAX_LISTED_FLOW_CHANGES = 5_000


@dataclass(frozen=True, slots=True)
class FlowChange:
    """Ports of one protocol that became allowed (or denied) from `src` to `dst`."""

    src: str
    dst: str
    protocol: Protocol
    ranges: tuple[Range, ...]
    breaks: tuple[Dependency, ...] = ()  # needed dependencies inside a removed flow

    def contains(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ranges)


@dataclass(frozen=True, slots=True)
class ExternalChange:
    """Ports of one protocol to the outside addresses `cidr` that `workload` may now open (or no longer)."""

    workload: str
    cidr: str
    protocol: Protocol
    ranges: tuple[Range, ...]


#: Port ranges (disjoint, ascending) of one protocol, each with the outside addresses it may reach.
Segment = tuple[int, int, AddressSet]
#: A workload's external egress in normal form: per protocol (in PROTOCOLS order), its segments;
#: adjacent ranges reaching the same addresses are merged and ranges reaching none left out.
ExternalCover = tuple[tuple[Protocol, tuple[Segment, ...]], ...]


@dataclass(frozen=True, slots=True)
class BundleDiff:
    flows_added: tuple[FlowChange, ...]
    flows_removed: tuple[FlowChange, ...]
    dependencies_broken: tuple[DependencyResultLike, ...]  # denied now, allowed (or absent) before
    dependencies_fixed: tuple[DependencyResultLike, ...]  # allowed now, denied before
    findings_introduced: tuple[Finding, ...]
    findings_resolved: tuple[Finding, ...]
    workloads_added: tuple[str, ...] = ()
    workloads_removed: tuple[str, ...] = ()
    external_added: tuple[ExternalChange, ...] = ()  # outside (address, protocol, port) newly allowed
    external_removed: tuple[ExternalChange, ...] = ()
    #: How many flow changes there are in all; `flows_added`/`flows_removed` list the first
    #: `limit` of them (sorted), so a diff of 1,000 pods (a million pairs) stays bounded.
    flows_added_total: int | None = None
    flows_removed_total: int | None = None


def diff_bundles(
    old: Bundle, new: Bundle,
    deps_old: Sequence[DependencyResultLike] | None = None,
    deps_new: Sequence[DependencyResultLike] | None = None,
    *, texts_old: Mapping[str, str] | None = None, texts_new: Mapping[str, str] | None = None,
    limit: int | None = MAX_LISTED_FLOW_CHANGES,
) -> BundleDiff:
    """Compare two bundles; `deps_*` are `evaluate_dependencies` results for each side.

    A removed flow lists the dependencies (of `deps_new`, else `deps_old`) whose port it
    carried. External egress changes are exact: every (workload, outside address, protocol,
    port) allowed on one side only is in exactly one ExternalChange. Everything is sorted,
    so equal inputs give equal diffs. At most `limit` flow changes of each kind are listed (the
    first in sort order; None lists all); `flows_*_total` count them all.
    """
    conn_old, conn_new = _conn(old), _conn(new)
    f_old = lint(old, deps_old, conn_old, texts=texts_old)
    f_new = lint(new, deps_new, conn_new, texts=texts_new)
    return diff_sides(old, new, conn_old, conn_new, deps_old or (), deps_new, f_old, f_new, limit=limit)


def diff_sides(
    old: Bundle, new: Bundle, conn_old: Connectivity, conn_new: Connectivity,
    deps_old: Sequence[DependencyResultLike], deps_new: Sequence[DependencyResultLike] | None,
    findings_old: Sequence[Finding], findings_new: Sequence[Finding], *,
    limit: int | None = MAX_LISTED_FLOW_CHANGES,
) -> BundleDiff:
    """`diff_bundles` from what each side already computed: connectivity, dependency verdicts, findings.

    `deps_new` None means the new side has no dependency list of its own (removed flows then
    name the old side's dependencies they carried).
    """
    needed = [r.dependency for r in (deps_new if deps_new is not None else deps_old)]
    added, added_total = _changes(conn_new, conn_old, (), limit)
    removed, removed_total = _changes(conn_old, conn_new, needed, limit)
    broken, fixed = _dependency_changes(deps_old, deps_new or ())
    old_keys, new_keys = {f.key() for f in findings_old}, {f.key() for f in findings_new}
    ids_old, ids_new = {w.id for w in old.workloads}, {w.id for w in new.workloads}
    ext_added, ext_removed = _external_changes(_covers(conn_old), _covers(conn_new))
    return BundleDiff(
        tuple(added), tuple(removed), tuple(broken), tuple(fixed),
        tuple(f for f in findings_new if f.key() not in old_keys),
        tuple(f for f in findings_old if f.key() not in new_keys),
        tuple(sorted(ids_new - ids_old)), tuple(sorted(ids_old - ids_new)),
        tuple(ext_added), tuple(ext_removed), added_total, removed_total,
    )


def _conn(bundle: Bundle) -> Connectivity:
    return compute_connectivity(compile_bundle(bundle))


def _changes(have: Connectivity, other: Connectivity, needed: Sequence[Dependency],
             limit: int | None) -> tuple[list[FlowChange], int]:
    """Ports allowed in `have` but not in `other`, per pair and protocol, with the dependencies they
    carried: the first `limit` in sort order, and how many there are in all.

    Workloads in the same class on both sides (a "combo") change the same way, so the port difference
    is computed once per pair of combos and the total is counted, not listed: a thousand pods without
    policies against a default deny (a million pairs) costs a handful of set operations, and memory
    stays O(limit + workloads)."""
    combo = _combos(have, other)
    diffs = _CombosDiff(have, other)
    members: dict[tuple[int, int | None], int] = {}
    for k in combo.values():
        members[k] = members.get(k, 0) + 1
    total = sum(members[a] * members[b] * len(diffs.get(a, b).ranges) for a in members for b in members)
    by_pair: dict[tuple[str, str | None], list[Dependency]] = {}
    for d in needed:
        by_pair.setdefault((d.src, d.dst), []).append(d)
    out: list[FlowChange] = []
    ids = sorted(combo)
    for src in ids:
        if limit is not None and len(out) >= limit:
            break
        if not any(diffs.get(combo[src], b) for b in members):
            continue
        for dst in ids:
            for proto, ranges in diffs.get(combo[src], combo[dst]).ranges:
                change = FlowChange(src, dst, proto, ranges)
                hit = tuple(d for d in by_pair.get((src, dst), ()) if d.protocol == proto and change.contains(d.port))
                out.append(FlowChange(src, dst, proto, ranges, hit))
    return (out if limit is None else out[:limit]), total


def _combos(have: Connectivity, other: Connectivity) -> dict[str, tuple[int, int | None]]:
    """Each workload of `have` by (its class in `have`, its class in `other` or None when absent)."""
    def classes(conn: Connectivity) -> dict[str, int]:
        workloads = conn.compiled.bundle.workloads
        return {workloads[m].id: c for c, cls in enumerate(conn.compiled.classes) for m in cls.members}
    theirs = classes(other)
    return {wid: (c, theirs.get(wid)) for wid, c in classes(have).items()}


class _CombosDiff:
    """The ports one combo may open to another in `have` and not in `other`, computed once per pair."""

    def __init__(self, have: Connectivity, other: Connectivity) -> None:
        self.have, self.other = have, other
        self._cache: dict[tuple[tuple[int, int | None], tuple[int, int | None]], PortSet] = {}

    def get(self, a: tuple[int, int | None], b: tuple[int, int | None]) -> PortSet:
        key = (a, b)
        found = self._cache.get(key)
        if found is None:
            ports = self.have.compiled.atoms.to_portset(self.have.class_ports(a[0], b[0]))
            theirs = PortSet()
            if a[1] is not None and b[1] is not None:
                theirs = self.other.compiled.atoms.to_portset(self.other.class_ports(a[1], b[1]))
            found = self._cache[key] = ports.difference(theirs)
        return found


# --- external egress -------------------------------------------------------------------


def external_cover(conn: Connectivity, workload: str) -> ExternalCover:
    """The outside addresses `workload` may open, per protocol and port range, in normal form.

    Two covers are equal exactly when they allow the same (address, protocol, port)
    triples, whatever the rules, their order or the way their blocks are written.

    Raises:
        UnknownWorkload: `workload` names no workload of the bundle.
    """
    segments: dict[Protocol, list[Segment]] = {}
    for grant in conn.external_egress(workload):
        addresses = union(block_addresses(b) for b in grant.blocks)
        if addresses:
            for proto, ranges in grant.ports.ranges:
                segments.setdefault(proto, []).extend((lo, hi, addresses) for lo, hi in ranges)
    flat = [(p, _flatten(segments[p])) for p in PROTOCOLS if p in segments]
    return tuple((p, segs) for p, segs in flat if segs)


def _flatten(segments: list[Segment]) -> tuple[Segment, ...]:
    """Overlapping segments as disjoint ones, each with the union of the addresses covering it."""
    cuts = sorted({lo for lo, _, _ in segments} | {hi + 1 for _, hi, _ in segments})
    out: list[Segment] = []
    for lo, nxt in itertools.pairwise(cuts):
        addresses = union(a for s_lo, s_hi, a in segments if s_lo <= lo and nxt - 1 <= s_hi)
        if not addresses:
            continue
        if out and out[-1][1] == lo - 1 and out[-1][2] == addresses:
            out[-1] = (out[-1][0], nxt - 1, addresses)
        else:
            out.append((lo, nxt - 1, addresses))
    return tuple(out)


def _covers(conn: Connectivity) -> dict[str, ExternalCover]:
    """Every workload's cover, computed once per class (its members share their egress)."""
    c = conn.compiled
    by_class: dict[int, ExternalCover] = {}
    out: dict[str, ExternalCover] = {}
    for i, w in enumerate(c.bundle.workloads):
        cls = c.class_of[i]
        if cls not in by_class:
            by_class[cls] = external_cover(conn, w.id)
        out[w.id] = by_class[cls]
    return out


def _external_changes(
    before: dict[str, ExternalCover], after: dict[str, ExternalCover],
) -> tuple[list[ExternalChange], list[ExternalChange]]:
    """(added, removed) per workload; a workload on one side only is compared with no egress."""
    added: list[ExternalChange] = []
    removed: list[ExternalChange] = []
    for wid in sorted(before.keys() | after.keys()):
        old, new = before.get(wid, ()), after.get(wid, ())
        if old != new:
            added += _cover_minus(wid, new, old)
            removed += _cover_minus(wid, old, new)
    return added, removed


def _cover_minus(workload: str, have: ExternalCover, other: ExternalCover) -> list[ExternalChange]:
    """The (address, protocol, port) triples of `have` missing from `other`, grouped by CIDR."""
    theirs = dict(other)
    out: list[ExternalChange] = []
    for proto, segments in have:
        by_cidr: dict[str, list[Range]] = {}
        for lo, hi, gone in _segment_minus(segments, theirs.get(proto, ())):
            for cidr in to_cidrs(gone):
                by_cidr.setdefault(cidr, []).append((lo, hi))
        for cidr in sorted(by_cidr, key=_cidr_order):
            out.append(ExternalChange(workload, cidr, proto, normalize(by_cidr[cidr])))
    return out


def _segment_minus(have: tuple[Segment, ...], other: tuple[Segment, ...]) -> list[Segment]:
    """Per piece of `have`'s port ranges, the addresses `other` does not cover on it."""
    out: list[Segment] = []
    for lo, hi, addresses in have:
        cuts = sorted({lo, hi + 1} | {b for o_lo, o_hi, _ in other for b in (o_lo, o_hi + 1) if lo < b <= hi})
        for p_lo, nxt in itertools.pairwise(cuts):
            covered = next((a for o_lo, o_hi, a in other if o_lo <= p_lo <= o_hi), ())
            gone = subtract(addresses, covered)
            if gone:
                out.append((p_lo, nxt - 1, gone))
    return out


def _cidr_order(cidr: str) -> tuple[int, int, int]:
    net = network(cidr)
    return net.version, int(net.network_address), net.prefixlen


def _dependency_changes(
    old: Sequence[DependencyResultLike], new: Sequence[DependencyResultLike],
) -> tuple[list[DependencyResultLike], list[DependencyResultLike]]:
    before = {r.dependency.key(): r.allowed for r in old}
    broken = [r for r in new if not r.allowed and before.get(r.dependency.key(), True)]
    fixed = [r for r in new if r.allowed and before.get(r.dependency.key()) is False]
    order = lambda r: r.dependency.key()  # noqa: E731
    return sorted(broken, key=order), sorted(fixed, key=order)


def flow_change_json(c: FlowChange) -> dict[str, Any]:
    return {
        "from": c.src, "to": c.dst, "protocol": c.protocol, "ports": [[lo, hi] for lo, hi in c.ranges],
        "breaks": [{"from": d.src, "to": d.target, "port": d.port, "protocol": d.protocol, "source": d.source}
                   for d in c.breaks],
    }


def external_change_json(c: ExternalChange) -> dict[str, Any]:
    return {"workload": c.workload, "cidr": c.cidr, "protocol": c.protocol, "ports": [[lo, hi] for lo, hi in c.ranges]}


def diff_json(diff: BundleDiff, old_label: str = "old", new_label: str = "new") -> dict[str, Any]:
    """The `netreason diff --format json` document (keys are a contract: add, never rename)."""
    doc: dict[str, Any] = {
        "schema": DIFF_SCHEMA, "old": old_label, "new": new_label,
        "workloads_added": list(diff.workloads_added), "workloads_removed": list(diff.workloads_removed),
        "flows_added": [flow_change_json(c) for c in diff.flows_added],
        "flows_removed": [flow_change_json(c) for c in diff.flows_removed],
        "external_added": [external_change_json(c) for c in diff.external_added],
        "external_removed": [external_change_json(c) for c in diff.external_removed],
        "dependencies_broken": [dependency_json(r) for r in diff.dependencies_broken],
        "dependencies_fixed": [dependency_json(r) for r in diff.dependencies_fixed],
        "findings_introduced": [finding_json(f) for f in diff.findings_introduced],
        "findings_resolved": [finding_json(f) for f in diff.findings_resolved],
    }
    doc["summary"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    doc["truncated"] = {}
    for key, total in (("flows_added", diff.flows_added_total), ("flows_removed", diff.flows_removed_total)):
        if total is not None and total > len(doc[key]):
            # A marker a reader cannot miss: the list is the first N in sort order, the count is all of them.
            doc["summary"][key] = total
            doc["truncated"][key] = {"listed": len(doc[key]), "total": total}
    return doc


__all__ = [
    "DIFF_SCHEMA", "BundleDiff", "ExternalChange", "ExternalCover", "FlowChange", "diff_bundles", "diff_json",
    "diff_sides",
    "external_change_json", "external_cover", "flow_change_json",
]
