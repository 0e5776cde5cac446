"""What changes between two versions of a bundle: flows, dependencies, findings.

This is what review tooling asks on a pull request: which connections does the change open
or close, which needed dependency does it break, which findings does it introduce or resolve.
Findings are matched by `Finding.key()` (rule, object, details["key"]), so a finding that only
moved lines or changed wording is neither introduced nor resolved. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .compile import compile_bundle
from .connectivity import Connectivity, compute_connectivity
from .findings import finding_json, lint
from .model import Bundle, Protocol
from .ports import PortSet, Range
from .records import Dependency, Finding
from .rules.context import DependencyResultLike
from .rules.deps import dependency_json

DIFF_SCHEMA = "netreason.diff/v1"


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
class BundleDiff:
    flows_added: tuple[FlowChange, ...]
    flows_removed: tuple[FlowChange, ...]
    dependencies_broken: tuple[DependencyResultLike, ...]  # denied now, allowed (or absent) before
    dependencies_fixed: tuple[DependencyResultLike, ...]  # allowed now, denied before
    findings_introduced: tuple[Finding, ...]
    findings_resolved: tuple[Finding, ...]
    workloads_added: tuple[str, ...] = ()
    workloads_removed: tuple[str, ...] = ()


def diff_bundles(
    old: Bundle, new: Bundle,
    deps_old: Sequence[DependencyResultLike] | None = None,
    deps_new: Sequence[DependencyResultLike] | None = None,
    *, texts_old: Mapping[str, str] | None = None, texts_new: Mapping[str, str] | None = None,
) -> BundleDiff:
    """Compare two bundles; `deps_*` are `evaluate_dependencies` results for each side.

    A removed flow lists the dependencies (of `deps_new`, else `deps_old`) whose port it
    carried. Everything is sorted, so equal inputs give equal diffs.
    """
    conn_old, conn_new = _conn(old), _conn(new)
    before, after = _flow_map(conn_old), _flow_map(conn_new)
    needed = [r.dependency for r in (deps_new if deps_new is not None else deps_old or ())]
    added = _changes(after, before, ())
    removed = _changes(before, after, needed)
    broken, fixed = _dependency_changes(deps_old or (), deps_new or ())
    f_old = lint(old, deps_old, conn_old, texts=texts_old)
    f_new = lint(new, deps_new, conn_new, texts=texts_new)
    old_keys, new_keys = {f.key() for f in f_old}, {f.key() for f in f_new}
    ids_old, ids_new = {w.id for w in old.workloads}, {w.id for w in new.workloads}
    return BundleDiff(
        tuple(added), tuple(removed), tuple(broken), tuple(fixed),
        tuple(f for f in f_new if f.key() not in old_keys), tuple(f for f in f_old if f.key() not in new_keys),
        tuple(sorted(ids_new - ids_old)), tuple(sorted(ids_old - ids_new)),
    )


def _conn(bundle: Bundle) -> Connectivity:
    return compute_connectivity(compile_bundle(bundle))


def _flow_map(conn: Connectivity) -> dict[tuple[str, str], PortSet]:
    return {(s, d): ports for s, d, ports in conn.flows()}


def _changes(have: dict[tuple[str, str], PortSet], other: dict[tuple[str, str], PortSet],
             needed: Sequence[Dependency]) -> list[FlowChange]:
    """Ports in `have` but not in `other`, per pair and protocol, with the dependencies they carried."""
    out: list[FlowChange] = []
    for (src, dst), ports in sorted(have.items()):
        gone = ports.difference(other.get((src, dst), PortSet()))
        for proto, ranges in gone.ranges:
            change = FlowChange(src, dst, proto, ranges)
            hit = tuple(d for d in needed if d.src == src and d.dst == dst and d.protocol == proto and change.contains(d.port))
            out.append(FlowChange(src, dst, proto, ranges, hit))
    return out


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


def diff_json(diff: BundleDiff, old_label: str = "old", new_label: str = "new") -> dict[str, Any]:
    """The `netreason diff --format json` document (keys are a contract: add, never rename)."""
    doc: dict[str, Any] = {
        "schema": DIFF_SCHEMA, "old": old_label, "new": new_label,
        "workloads_added": list(diff.workloads_added), "workloads_removed": list(diff.workloads_removed),
        "flows_added": [flow_change_json(c) for c in diff.flows_added],
        "flows_removed": [flow_change_json(c) for c in diff.flows_removed],
        "dependencies_broken": [dependency_json(r) for r in diff.dependencies_broken],
        "dependencies_fixed": [dependency_json(r) for r in diff.dependencies_fixed],
        "findings_introduced": [finding_json(f) for f in diff.findings_introduced],
        "findings_resolved": [finding_json(f) for f in diff.findings_resolved],
    }
    doc["summary"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    return doc


__all__ = ["DIFF_SCHEMA", "BundleDiff", "FlowChange", "diff_bundles", "diff_json", "flow_change_json"]
