"""Filters on what `flows` and `lint` show: `--from`, `--to`, a namespace and a label selector.

The truth is always computed on the whole bundle; a filter only picks the rows (flows,
traffic with outside addresses) and findings that are printed. A filter term that matches
no workload is an error naming the term (`FilterMatchesNothing`), never an empty success.

A flow row is kept when every given term holds:
  --from X   its source is one of the workloads X stands for (`outside`: an outside address);
  --to Y     its destination is one of Y's workloads (`outside`: an outside address);
  -n / -l    one of its two ends is a workload in the namespace whose labels match the selector.
A finding concerns workloads: the source and destination of a dependency, the workload it
names, the pods a policy selects, or every workload of a namespace it names. Findings that
concern no namespace and no workload (an unreadable object, a cluster-scoped admin policy)
are always kept: nothing shows they are unrelated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verifier.engine.connectivity import Connectivity
from verifier.model.errors import InputError
from verifier.model.bundle import Bundle, LabelSelector, Workload
from verifier.model.records import Finding
from verifier.sets.selectors import iter_bits, matches

from . import targets
from .labelselector import SelectorSyntaxError, parse_selector

if TYPE_CHECKING:  # the review rules are not imported by `flows` or `check`, which never filter findings
    from verifier.review.findings import LintReport

#: The word that stands for addresses outside the input in --from/--to.
OUTSIDE = "outside"
#: Rules whose findings no filter hides: an object left out of the evaluation, or a dependency naming
#: no workload, may concern anything, and hiding an error would let a filtered CI run pass on it.
ALWAYS_SHOWN = frozenset({"invalid-object", "dependency-unresolved"})


class FilterMatchesNothing(InputError):
    """A filter term that stands for no workload: fail closed, naming the term."""


@dataclass(frozen=True)
class FilterSpec:
    """The filter as given on the command line (None: not given)."""

    src: str | None = None
    dst: str | None = None
    namespace: str | None = None
    selector: str | None = None

    def given(self) -> bool:
        return any(v is not None for v in (self.src, self.dst, self.namespace, self.selector))

    def describe(self) -> str:
        parts = [("--from", self.src), ("--to", self.dst), ("-n", self.namespace), ("-l", self.selector)]
        return " ".join(f"{flag} {value}" for flag, value in parts if value is not None)

    def as_json(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "namespace": self.namespace, "selector": self.selector}


@dataclass(frozen=True)
class WorkloadFilter:
    """A FilterSpec resolved against a bundle: the workload ids each term stands for."""

    spec: FilterSpec
    src: frozenset[str] | None  # None: any source; OUTSIDE in the set: outside addresses
    dst: frozenset[str] | None
    ends: frozenset[str] | None  # workloads passing -n and -l (None: neither given)

    def keeps_pair(self, src: str, dst: str) -> bool:
        """Whether a row from `src` to `dst` (a workload id or OUTSIDE) is shown."""
        return ((self.src is None or src in self.src) and (self.dst is None or dst in self.dst)
                and (self.ends is None or src in self.ends or dst in self.ends))

    def keeps_subjects(self, sources: set[str], dests: set[str], namespace: str | None = None) -> bool:
        """Whether something concerning `sources` and `dests` (in `namespace`, if it has one) is shown."""
        if (self.src is not None and not sources & self.src) or (self.dst is not None and not dests & self.dst):
            return False
        in_namespace = self.spec.selector is None and namespace is not None and namespace == self.spec.namespace
        return self.ends is None or bool((sources | dests) & self.ends) or in_namespace


def resolve(spec: FilterSpec, bundle: Bundle) -> WorkloadFilter:
    """The workloads each term of `spec` stands for. A bare NAME in --from/--to is looked up in
    `spec.namespace` when one is given, else in every namespace.

    Raises:
        FilterMatchesNothing: a term stands for no workload (the message names it and suggests names).
    """
    return WorkloadFilter(spec, _end(bundle, "--from", spec.src, spec.namespace),
                          _end(bundle, "--to", spec.dst, spec.namespace), _ends(bundle, spec))


def _end(bundle: Bundle, flag: str, text: str | None, namespace: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    if text.strip().lower() == OUTSIDE:
        return frozenset({OUTSIDE})
    try:
        return frozenset(w.id for w in targets.sources(bundle, text, namespace))
    except InputError as e:
        raise FilterMatchesNothing(f"{flag} {text}: {e.detail}") from None


def _ends(bundle: Bundle, spec: FilterSpec) -> frozenset[str] | None:
    if spec.namespace is None and spec.selector is None:
        return None
    selector = _selector(spec.selector)
    pool = [w for w in bundle.workloads if spec.namespace is None or w.namespace == spec.namespace]
    if not pool:
        known = ", ".join(sorted({w.namespace for w in bundle.workloads})[:10])
        raise FilterMatchesNothing(f"-n {spec.namespace}: no workload in namespace {spec.namespace!r} "
                                   f"(namespaces with workloads: {known}); use -A to show every namespace")
    kept = frozenset(w.id for w in pool if matches(selector, w.labels))
    if not kept:
        where = f" in namespace {spec.namespace}" if spec.namespace else ""
        raise FilterMatchesNothing(f"-l {spec.selector}: no workload{where} has matching labels "
                                   f"(e.g. {_labels_hint(pool)})")
    return kept


def _selector(text: str | None) -> LabelSelector:
    if text is None:
        return LabelSelector()
    try:
        return parse_selector(text)
    except SelectorSyntaxError as e:
        raise FilterMatchesNothing(f"-l {text}: {e}") from None


def _labels_hint(pool: list[Workload]) -> str:
    shown = [f"{w.id}: " + (",".join(f"{k}={v}" for k, v in sorted(w.labels.items())) or "no labels") for w in pool[:3]]
    return "; ".join(shown)


# --- flows -------------------------------------------------------------------------------------------------


def filter_flows_doc(doc: dict[str, Any], wf: WorkloadFilter) -> dict[str, Any]:
    """A copy of a flows document with only the rows `wf` keeps, and a `filter` key saying what was kept.

    `workloads`, `summary`, `notes` and `issues` stay whole: they describe the bundle the flows
    were computed on.
    """
    out = dict(doc)
    out["flows"] = [f for f in doc["flows"] if wf.keeps_pair(f["from"], f["to"])]
    out["external_egress"] = [e for e in doc.get("external_egress", []) if wf.keeps_pair(e["from"], OUTSIDE)]
    out["external_ingress"] = [e for e in doc.get("external_ingress", []) if wf.keeps_pair(OUTSIDE, e["to"])]
    out["filter"] = {**wf.spec.as_json(), "flows_total": len(doc["flows"]), "flows_shown": len(out["flows"]),
                     "outside_shown": len(out["external_egress"]) + len(out["external_ingress"])}
    return out


def shown_rows(doc: dict[str, Any]) -> int:
    return len(doc["flows"]) + len(doc.get("external_egress", [])) + len(doc.get("external_ingress", []))


# --- findings ----------------------------------------------------------------------------------------------


def filter_report(report: LintReport, wf: WorkloadFilter, conn: Connectivity) -> LintReport:
    """The findings and dependency verdicts `wf` keeps; fixes those findings need (see module docstring)."""
    subjects = _Subjects(conn)
    findings = tuple(f for f in report.findings if subjects.keeps(f, wf))
    deps = tuple(r for r in report.dependencies if wf.keeps_subjects({r.dependency.src}, _dst_ids(r.dependency.dst)))
    wanted = {fid for f in findings for fid in f.details.get("fixes", ())}
    namespaces = {fix.namespace for fix in report.fixes if fix.id in wanted}
    fixes = tuple(fix for fix in report.fixes if fix.id in wanted or fix.namespace in namespaces)
    return dataclasses.replace(report, findings=findings, dependencies=deps, fixes=fixes)


def _dst_ids(dst: str | None) -> set[str]:
    return {dst} if dst else {OUTSIDE}


class _Subjects:
    """What each finding concerns: (sources, destinations), or None for a bundle-wide finding."""

    def __init__(self, conn: Connectivity) -> None:
        c = conn.compiled
        self.workloads = {w.id for w in c.bundle.workloads}
        self.by_namespace: dict[str, set[str]] = {}
        for w in c.bundle.workloads:
            self.by_namespace.setdefault(w.namespace, set()).add(w.id)
        self.policies = {p.id: _members(c.classes[i].members for i in iter_bits(c.policy_targets.get(p.id, 0)))
                         for p in c.bundle.policies}
        self.ids = [w.id for w in c.bundle.workloads]

    def keeps(self, f: Finding, wf: WorkloadFilter) -> bool:
        found = self.of(f)
        return True if found is None else wf.keeps_subjects(*found)

    def of(self, f: Finding) -> tuple[set[str], set[str], str | None] | None:
        if f.rule in ALWAYS_SHOWN:
            return None
        namespace = f.object.partition("/")[0] if "/" in f.object else None
        dep = f.details.get("dependency")
        if isinstance(dep, dict) and dep.get("from"):
            dst = dep.get("to")
            return {dep["from"]}, ({dst} if dst in self.workloads else {OUTSIDE}), namespace
        if f.object in self.workloads:
            return {f.object}, {f.object}, namespace
        if f.object in self.policies:
            selected = {self.ids[i] for i in self.policies[f.object]}
            return selected, selected, namespace
        if f.object in self.by_namespace:
            everyone = self.by_namespace[f.object]
            return everyone, everyone, f.object
        return (set(), set(), namespace) if namespace else None


def _members(groups: Iterable[Iterable[int]]) -> set[int]:
    return {m for g in groups for m in g}
