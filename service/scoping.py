"""A scope's share of the truth: which workloads it covers, and the analysis document cut down to them.

The truth is always computed for the whole cluster (a policy in one namespace decides traffic from another);
a scope only decides what is asked and reported. `--namespace NS` covers the namespaces' workloads;
`--focus WORKLOAD` covers the workload, the policies that select it, and what it reaches and what reaches it
(its dependencies either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from verifier.model.errors import InputError
from verifier.suggest import or_hint

from .scope import Scope
from .truth import Truth

if TYPE_CHECKING:  # a whole-cluster analysis never builds one: `analyze` without a model does not import slicing
    from .slices import SliceContext


class ScopeError(InputError):
    """A scope naming a namespace or workload the manifests do not have."""


def check_scope(truth: Truth, scope: Scope) -> None:
    """Raises ScopeError when the scope names what does not exist (with the closest names)."""
    known_ns = set(truth.bundle.namespaces)
    for ns in scope.namespaces:
        if ns not in known_ns:
            raise ScopeError(f"--namespace {ns}: no such namespace in the manifests{_close(ns, known_ns)}")
    if scope.focus is not None:
        ids = {w.id for w in truth.bundle.workloads}
        if scope.focus not in ids:
            raise ScopeError(f"--focus {scope.focus}: no such workload (namespace/name){_close(scope.focus, ids)}")


def resolve_focus(truth: Truth, ref: str) -> str:
    """`ref` as a workload id: `namespace/name`, or a bare name that only one namespace has."""
    if "/" in ref:
        return ref
    hits = [w.id for w in truth.bundle.workloads if w.name == ref]
    return hits[0] if len(hits) == 1 else ref


def scope_workloads(ctx: SliceContext, scope: Scope) -> set[str]:
    """The workloads a scope reports on."""
    if scope.workloads:
        return set(scope.workloads)
    if scope.focus is not None:
        peers = {d.dst for d in ctx.deps_by_src.get(scope.focus, ()) if d.dst}
        peers |= {d.src for d in ctx.deps_by_dst.get(scope.focus, ())}
        return {scope.focus} | peers
    return {w.id for ns in scope.namespaces for w in ctx.by_ns.get(ns, ())}


def apply_scope(doc: dict[str, Any], truth: Truth, scope: Scope) -> dict[str, Any]:
    """The analysis document cut to the scope (lists filtered, nothing renamed); `scope` says what was kept."""
    if scope.whole:
        doc["scope"] = None
        return doc
    from .slices import SliceContext

    ctx = SliceContext(truth)
    inside = _inside(ctx, scope)
    gt = doc["ground_truth"]
    gt["dependencies"] = [d for d in gt["dependencies"] if inside(d.get("from")) or inside(d.get("to"))]
    gt["dependencies_broken"] = [d for d in gt["dependencies"] if not d["allowed"]]
    gt["dns_egress_missing"] = [w for w in gt["dns_egress_missing"] if inside(w)]
    gt["findings"] = [f for f in gt["findings"] if inside(f.get("object"))]
    if isinstance(gt.get("coverage"), list) and scope.namespaces:
        gt["coverage"] = [c for c in gt["coverage"] if not isinstance(c, dict)
                          or c.get("namespace") in scope.namespaces]
    doc["missed"] = [m for m in doc.get("missed", [])
                     if any(inside(m["item"].get(k)) for k in ("from", "to", "workload", "object"))]
    doc["scope"] = {**scope.to_json(), "workloads": sorted(scope_workloads(ctx, scope))[:200],
                    "workloads_total": len(scope_workloads(ctx, scope))}
    return doc


def _inside(ctx: SliceContext, scope: Scope) -> Callable[[object], bool]:
    workloads = scope_workloads(ctx, scope)
    if scope.focus is not None:
        policies = {p.id for p in ctx.policies_of.get(scope.focus, ())}
        names = {scope.focus, *policies}
        return lambda ref: isinstance(ref, str) and ref in names
    namespaces = set(scope.namespaces)
    return lambda ref: isinstance(ref, str) and (ref in workloads or ref.split("/", 1)[0] in namespaces)


def _close(ref: str, known: set[str]) -> str:
    return or_hint(ref, known, n=2)
